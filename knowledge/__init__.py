"""The plan: its source text, the parser that turns it into a typed tree, and the search index."""

from pathlib import Path

_HERE = Path(__file__).parent
#: The city's own text, copied verbatim from shared/plan.
PLAN_SOURCE = _HERE / "aomori-sogo-keikaku-taikeizu.txt"
SYNONYMS_FILE = _HERE / "synonyms.tsv"
NODE_KEYWORDS_FILE = _HERE / "node_keywords.tsv"
NODE_EXAMPLES_FILE = _HERE / "node_examples.tsv"
MESSAGE_KINDS_FILE = _HERE / "message_kinds.tsv"
PILLAR_NAMES_FILE = _HERE / "pillar_names.tsv"
EXAMPLE_QUESTIONS_FILE = _HERE / "example_questions.tsv"
PASSAGE_CUES_FILE = _HERE / "passage_cues.tsv"
NODE_TITLES_FILE = _HERE / "node_titles.tsv"
