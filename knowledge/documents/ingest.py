"""Index 基本計画 documents as a new version, roll back, purge.

Every file is read and checked before anything is written: one bad file (a scan, encrypted, corrupt, empty,
mislabelled, or placing nothing) rejects the run and the current version keeps answering. The new version's
collection is complete before the pointer moves to it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from knowledge.documents.attach import attach
from knowledge.documents.errors import DocumentError, KnowledgeDocumentError, PassageStoreError, VersionError
from knowledge.documents.model import Passage
from knowledge.documents.readers import read_document
from knowledge.documents.report import DocumentReport
from knowledge.documents.store import PassageEmbedder, PassageLibrary, passage_metadata
from knowledge.documents.versions import PlanVersion, SourceFile
from knowledge.progress import Progress
from knowledge.tree import PlanTree

log = logging.getLogger(__name__)
BATCH = 32
EMBED_CHARS = 48


class DocumentsRejected(KnowledgeDocumentError):
    """One or more source files cannot be used; `errors` has one `DocumentError` (one line) per file."""

    def __init__(self, errors: list[DocumentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class IndexResult:
    """The version an index run made current, and each document's self-check."""

    version: PlanVersion
    reports: list[DocumentReport]


@dataclass(frozen=True)
class LoadedDocuments:
    """Every file read, placed and checked; nothing written yet."""

    passages: list[Passage]
    reports: list[DocumentReport]
    sources: list[SourceFile]


def load_documents(paths: Sequence[Path], tree: PlanTree, label: str = "") -> LoadedDocuments:
    """Read and attach every file. Raises `DocumentsRejected` naming every file that cannot be used."""
    if not paths:
        raise VersionError("no source files given")
    errors: list[DocumentError] = []
    passages: list[Passage] = []
    reports: list[DocumentReport] = []
    sources: list[SourceFile] = []
    covered_by: dict[str, str] = {}
    for path in dict.fromkeys(Path(p) for p in paths):
        try:
            document = read_document(path)
            found, report = attach(document, tree, label)
        except DocumentError as exc:
            errors.append(exc)
            continue
        _note_overlap(report, covered_by)
        passages += [_renumber(p, len(passages) + i) for i, p in enumerate(found)]
        reports.append(report)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        sources.append(SourceFile(path.name, str(path.resolve()), sha, document.format, document.pages))
    if errors:
        raise DocumentsRejected(errors)
    return LoadedDocuments(passages, reports, sources)


def _note_overlap(report: DocumentReport, covered_by: dict[str, str]) -> None:
    """A 施策 covered by two loaded files is 'found twice' across documents: say so in the later report."""
    twice = [n for n in report.covered if n in covered_by]
    if twice:
        report.notes.append("also covered by another file (passages of both are kept): "
                            + ", ".join(f"{n} ({covered_by[n]})" for n in twice))
    for node_id in report.covered:
        covered_by.setdefault(node_id, report.file)


def _renumber(passage: Passage, order: int) -> Passage:
    return Passage(passage.node_id, passage.section, passage.text, passage.source, passage.indicator, order)


def embedding_text(tree: PlanTree, passage: Passage) -> str:
    """What is embedded for a passage: its section and what names it (an indicator's name, the start of an item
    or of a text), capped at EMBED_CHARS.

    The bundled CPU model costs about one millisecond per character even on a quiet machine, so a long plan
    must embed short texts. Search is normally limited to the nodes the core already chose, where the section
    and the opening words are what tell one passage from another.
    """
    if passage.indicator is not None:
        return f"{tree[passage.node_id].title} 指標：{passage.indicator.name}"[:EMBED_CHARS]
    return f"{passage.section}：{passage.text}"[:EMBED_CHARS]


def embedding_texts(tree: PlanTree, passages: list[Passage]) -> list[str]:
    """One text per passage. The chunks of one narrative section (現状と課題, 目指す姿, …) share the vector of
    their first chunk: they are quoted together, and long narrative would otherwise dominate the cost."""
    texts: list[str] = []
    run_text, run_key = "", ("", "")
    for passage in passages:
        narrative = passage.indicator is None and passage.section != "主な取組"
        key = (passage.node_id, passage.section)
        if not (narrative and key == run_key):
            run_text, run_key = embedding_text(tree, passage), key if narrative else ("", "")
        texts.append(run_text)
    return texts


def _embed(embedder: PassageEmbedder, texts: list[str], cache: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Embed each distinct text once per run (shared narrative vectors, repeated notes)."""
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing:
        cache.update(zip(missing, embedder.embed_passages(missing), strict=True))
    return [cache[text] for text in texts]


def index_documents(library: PassageLibrary, tree: PlanTree, embedder: PassageEmbedder, paths: Sequence[Path],
                    label: str | None = None, progress: Progress | None = None) -> IndexResult:
    """Load `paths` as a new version and make it current. Serialise callers with the index lock."""
    return index_loaded(library, tree, embedder, load_documents(paths, tree), label, progress)


def index_loaded(library: PassageLibrary, tree: PlanTree, embedder: PassageEmbedder, loaded: LoadedDocuments,
                 label: str | None = None, progress: Progress | None = None) -> IndexResult:
    """Store documents already loaded and checked (`load_documents`) as a new version, then make it current."""
    registry = library.registry
    version_id = registry.allocate_id()
    created = datetime.now(UTC).replace(microsecond=0)
    version = PlanVersion(version_id, label or f"{version_id} ({created:%Y-%m-%d})", created.isoformat(),
                          registry.collection_name(version_id), tuple(loaded.sources), len(loaded.passages))
    _write_collection(library, tree, embedder, version, loaded.passages, progress)
    registry.add_and_switch(version)
    library.invalidate()
    log.info("version %s (%s) is current: %d passages", version.id, version.label, version.passages)
    return IndexResult(version, loaded.reports)


def ensure_sources(library: PassageLibrary, tree: PlanTree, embedder: PassageEmbedder, paths: Sequence[Path],
                   progress: Progress | None = None) -> IndexResult | None:
    """For `PLANBOT_PLAN_SOURCES` at start-up: index the files as a new version unless the current version
    was built from exactly these contents (then None). Serialise callers with the index lock."""
    if sources_unchanged(library.current_version(), paths):
        return None
    return index_documents(library, tree, embedder, paths, progress=progress)


def split_sources(value: str | None) -> list[Path]:
    """`PLANBOT_PLAN_SOURCES`: paths separated by the OS path separator (``:`` on Linux), blanks ignored."""
    return [Path(part.strip()) for part in (value or "").split(os.pathsep) if part.strip()]


def _write_collection(library: PassageLibrary, tree: PlanTree, embedder: PassageEmbedder, version: PlanVersion,
                      passages: list[Passage], progress: Progress | None) -> None:
    client = library.client
    try:
        collection = client.create_collection(version.collection, embedding_function=None,
                                              configuration={"hnsw": {"space": "cosine"}})
        texts = embedding_texts(tree, passages)
        cache: dict[str, np.ndarray] = {}
        for start in range(0, len(passages), BATCH):
            batch = passages[start:start + BATCH]
            vectors = _embed(embedder, texts[start:start + BATCH], cache)
            collection.add(ids=[f"{version.id}-{p.order:06d}" for p in batch], documents=[p.text for p in batch],
                           embeddings=vectors, metadatas=[passage_metadata(p) for p in batch])
            if progress:
                progress(min(start + BATCH, len(passages)), len(passages), "embedding passages")
    except Exception as exc:
        # A half-built version must not stay behind, even unreferenced.
        try:
            client.delete_collection(version.collection)
        except Exception:
            log.warning("could not remove the half-built collection %s", version.collection)
        raise PassageStoreError(f"indexing the passages failed ({type(exc).__name__}: {exc})") from exc


def rollback(library: PassageLibrary) -> PlanVersion | None:
    """Make the version before the current one current. None: back to the 体系図 alone (no documents)."""
    state = library.registry.state()
    if state.current is None:
        raise VersionError("no document version is current: nothing to roll back")
    ids = [v.id for v in state.versions]
    position = ids.index(state.current) if state.current in ids else len(ids)
    previous = state.versions[position - 1] if position > 0 else None
    library.registry.switch(previous.id if previous else None)
    library.invalidate()
    return previous


def purge_versions(library: PassageLibrary) -> list[PlanVersion]:
    """Delete every version except the current one (collections and registry entries)."""
    state = library.registry.state()
    old = [v for v in state.versions if v.id != state.current]
    for version in old:
        try:
            library.client.delete_collection(version.collection)
        except Exception:
            log.info("collection %s was already gone", version.collection)
    library.registry.forget({v.id for v in old})
    return old


def sources_unchanged(version: PlanVersion | None, paths: Sequence[Path]) -> bool:
    """True when `version` was built from exactly these files' contents (PLANBOT_PLAN_SOURCES at start-up
    re-indexes only when a file changed)."""
    if version is None:
        return False
    try:
        wanted = sorted(hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths)
    except OSError:
        return False
    return wanted == sorted(s.sha256 for s in version.sources)

