"""The plan: its source text, the parser that turns it into a typed tree, and the search index."""

from pathlib import Path

#: The city's own text, copied verbatim from shared/plan.
PLAN_SOURCE = Path(__file__).with_name("aomori-sogo-keikaku-taikeizu.txt")
SYNONYMS_FILE = Path(__file__).with_name("synonyms.tsv")
NODE_KEYWORDS_FILE = Path(__file__).with_name("node_keywords.tsv")
OFF_TOPIC_FILE = Path(__file__).with_name("off_topic_examples.tsv")
