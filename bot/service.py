"""PlanBot: question → answer, from the plan and nothing else.

`ask` runs the pipeline once, in order: understand → retrieve → decide → compose (→ LLM + guard).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from bot.answering import Composer
from bot.decide import Thresholds, decide
from bot.errors import APOLOGY_EN, APOLOGY_JA, ConfigError
from bot.intents import detect_language
from bot.kinds import load_classifier
from bot.llm import LLMComposer, build_llm_composer
from bot.passages import PassageCues, PassageFinder, figure_rows, promoted, version_name
from bot.retrieval import HybridRetriever, Retrieval
from bot.settings import Settings
from bot.types import Answer, Question
from bot.understand import Understander, Understanding
from knowledge import (
    EXAMPLE_QUESTIONS_FILE,
    MESSAGE_KINDS_FILE,
    NODE_EXAMPLES_FILE,
    NODE_KEYWORDS_FILE,
    PASSAGE_CUES_FILE,
    PILLAR_NAMES_FILE,
    PLAN_SOURCE,
)
from knowledge.documents import (
    KnowledgeDocumentError,
    PassageLibrary,
    ensure_sources,
    open_chroma,
    split_sources,
    writer_lock,
)
from knowledge.embeddings import Embedder, load_embedder
from knowledge.index import IndexLocation, index_lock, lexical_text, open_index
from knowledge.lexical import JapaneseTokenizer, KanaReadings, LexicalIndex, SynonymTable, load_node_texts
from knowledge.parser import parse_plan
from knowledge.progress import Progress
from knowledge.terms import PlanTerms
from knowledge.tree import PlanTree
from knowledge.vector_cache import PassageVectorCache

log = logging.getLogger(__name__)

__all__ = ["PlanBot", "Thresholds", "build_planbot"]


class PlanBot:
    """The core. `ask` is synchronous, thread-safe, CPU-bound (tens of ms) and never raises."""

    def __init__(self, settings: Settings, tree: PlanTree, embedder: Embedder, understand: Understander,
                 retriever: HybridRetriever, compose: Composer, thresholds: Thresholds | None = None,
                 llm: LLMComposer | None = None, passages: PassageFinder | None = None,
                 cues: PassageCues | None = None) -> None:
        self.settings = settings
        self.tree = tree
        self.embedder = embedder
        self.understand = understand
        self.retriever = retriever
        self.compose = compose
        self.thresholds = thresholds or Thresholds()
        self.llm = llm
        # The loaded 基本計画 documents (None: the 体系図 alone, as before any document was indexed).
        self.passages = passages
        self.cues = cues or PassageCues.load(PASSAGE_CUES_FILE)

    def with_llm(self, llm: LLMComposer | None) -> PlanBot:
        """The same core (shared steps, index and model) composing through another LLM, or none."""
        return PlanBot(self.settings, self.tree, self.embedder, self.understand, self.retriever, self.compose,
                       self.thresholds, llm, passages=self.passages, cues=self.cues)

    def ask(self, question: Question) -> Answer:
        """Answer one question from the plan. Failures become the fixed apology, never an exception."""
        started = time.perf_counter()
        try:
            answer = self._answer(question)
        except Exception:
            log.exception("answering failed (channel=%s)", question.channel)
            language = detect_language(question.text or "")
            answer = Answer(question.text, APOLOGY_EN if language == "en" else APOLOGY_JA, False, kind="error")
        return replace(answer, latency_ms=(time.perf_counter() - started) * 1000)

    def _answer(self, question: Question) -> Answer:
        understood = self.understand(question)
        retrieval = self.retrieve(understood)
        decision = decide(understood, retrieval, self.tree, self.thresholds)
        answer = self.compose(understood, retrieval, decision)
        if retrieval is not None and retrieval.plan_version is not None:
            answer = replace(answer, plan_version=retrieval.plan_version)
        if self.llm is not None and decision.outcome == "answer":
            return self.llm.compose(answer, understood.language)
        return answer

    def retrieve(self, u: Understanding) -> Retrieval | None:
        """Rank the plan's nodes for an understood question (None when there is nothing to look up)."""
        if u.problem or u.kinds is None:
            return None
        retrieval = self.retriever.retrieve(u.text, u.terms)
        t = self.thresholds
        if u.context and retrieval.top_dense < t.dense_min and retrieval.top_lexical < t.lexical_min:
            # A follow-up in a thread ("それはいつから？") leans on the question before it.
            retrieval = self.retriever.retrieve(f"{u.context[-1]} {u.text}", u.terms)
        return self.with_passages(u.text, retrieval)

    def with_passages(self, text: str, retrieval: Retrieval, top: int = 3) -> Retrieval:
        """The retrieval plus the loaded passages of its top nodes (unchanged with the 体系図 alone)."""
        if self.passages is None:
            return retrieval
        nodes = [*retrieval.term_nodes, *(h.id for h in retrieval.hits[:top])]
        found, version = self.passages.find(text, nodes)
        if version is None:
            return retrieval
        retrieval = promoted(text, retrieval, found, self.cues)
        top_node = retrieval.hits[0].id if retrieval.hits else None
        rows = figure_rows(text, found, top_node, self.cues)
        return replace(retrieval, passages=found, figure_rows=rows, plan_version=version_name(version))



def index_location(settings: Settings) -> IndexLocation:
    """Where the settings put the index."""
    return IndexLocation(settings.data_dir, settings.collection_name, settings.chroma_host, settings.chroma_port)


def build_planbot(settings: Settings, progress: Progress | None = None, load_sources: bool = True) -> PlanBot:
    """Load the tree, the embedder, the index and the message-kind model (built or brought up to date here),
    and open the 基本計画 passages; `PLANBOT_PLAN_SOURCES` is indexed first unless `load_sources` is False
    (`planbot index` stores its own files)."""
    tree = parse_plan(settings.plan_source or PLAN_SOURCE)
    embedder = load_embedder(settings.embedding_model, settings.embedding_threads, settings.embedding_processes)
    ids = [node.id for node in tree]
    examples = load_node_texts(NODE_EXAMPLES_FILE, ids)
    keywords = load_node_texts(NODE_KEYWORDS_FILE, ids)
    extras = {i: [*keywords.get(i, []), *examples.get(i, [])] for i in ids}
    plan_messages = [q for qs in examples.values() for q in qs] + plan_word_messages(keywords)
    location = index_location(settings)
    models = settings.model_cache or settings.data_dir / "models"
    vectors = PassageVectorCache(models / f"passage-vectors-{embedder.name}.npz")
    with index_lock(location):
        index = open_index(location, tree, embedder, progress, extras, vectors)
        classifier = load_classifier(MESSAGE_KINDS_FILE, plan_messages, embedder, models, progress)
    lexical = LexicalIndex(ids, [lexical_text(tree, i, extras[i]) for i in ids], JapaneseTokenizer())
    readings = KanaReadings([tree.document_text(i) for i in ids])
    retriever = HybridRetriever(tree, index, lexical, SynonymTable.load(), embedder, readings)
    understand = Understander(tree, PlanTerms(tree), pillar_names(tree), embedder, classifier.predict,
                              settings.max_question_chars)
    cues = PassageCues.load(PASSAGE_CUES_FILE)
    compose = Composer(tree, settings.city_contact, settings.max_question_chars, example_questions(), cues)
    library = open_passages(settings, tree, embedder, progress, load_sources)
    return PlanBot(settings, tree, embedder, understand, retriever, compose, llm=build_llm_composer(settings, tree),
                   passages=PassageFinder(library, embedder), cues=cues)


def open_passages(settings: Settings, tree: PlanTree, embedder: Embedder, progress: Progress | None,
                  load_sources: bool) -> PassageLibrary:
    """The versioned passage store beside the plan index (same Chroma), with PLANBOT_PLAN_SOURCES indexed."""
    try:
        library = PassageLibrary(open_chroma(settings.data_dir, settings.chroma_host, settings.chroma_port),
                                 settings.collection_name)
        if load_sources and settings.plan_sources:
            with writer_lock(settings.data_dir):
                ensure_sources(library, tree, embedder, split_sources(settings.plan_sources), progress)
    except KnowledgeDocumentError as exc:
        raise ConfigError(f"PLANBOT_PLAN_SOURCES: {exc}") from exc
    return library


def plan_word_messages(keywords: dict[str, list[str]]) -> list[str]:
    """A message that is one of the plan's everyday words, bare or asked about (「空き家」「除雪は？」「創業って？」),
    is a plan question too: these teach the kind model that a topic word with a question mark asks about the
    plan, and that a figure question needs a word asking for a figure."""
    words = sorted({w for line in keywords.values() for w in " ".join(line).split() if len(w) >= 2 and not w.isascii()})
    return [*words, *(f"{w}は？" for w in words[::2]), *(f"{w}って？" for w in words[1::2])]


def pillar_names(tree: PlanTree) -> dict[str, str]:
    """Each pillar's title and the everyday names of knowledge/pillar_names.tsv → pillar id."""
    names = {node.title: node.id for node in tree.of_kind("pillar")}
    for line in PILLAR_NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pillar, _, name = line.partition("\t")
            names[name.strip()] = pillar.strip()
    return names


def example_questions() -> dict[str, tuple[str, ...]]:
    """Example questions offered when nothing in the plan is near, by language."""
    found: dict[str, list[str]] = {}
    for line in EXAMPLE_QUESTIONS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            language, _, text = line.partition("\t")
            found.setdefault(language.strip(), []).append(text.strip())
    return {language: tuple(texts[:4]) for language, texts in found.items()}
