"""The 基本計画 documents attached to the 体系図 tree: reading, placing, checking, versioned passage storage.

What the core calls:

- `PassageLibrary(client, namespace)` → `.current()` → `PassageStore | None`, `.current_version()`
- `PassageStore.passages_for(node_ids) -> list[Passage]`, `PassageStore.search(query_vector, node_ids, k)`
- `Passage(node_id, section, text, source: PassageSource(version, file, page), indicator: Indicator | None)`

What the CLI and start-up call: `load_documents` + `index_loaded` (or `index_documents`), `ensure_sources`
(PLANBOT_PLAN_SOURCES), `rollback`, `purge_versions`, `split_sources`.
Nothing here imports from `bot/`.
"""

from knowledge.documents.errors import DocumentError, KnowledgeDocumentError, PassageStoreError, VersionError
from knowledge.documents.ingest import (
    DocumentsRejected,
    IndexResult,
    LoadedDocuments,
    ensure_sources,
    index_documents,
    index_loaded,
    load_documents,
    purge_versions,
    rollback,
    sources_unchanged,
    split_sources,
)
from knowledge.documents.model import SECTION_NAMES, Indicator, Passage, PassageSource
from knowledge.documents.report import DocumentReport
from knowledge.documents.store import PassageEmbedder, PassageLibrary, PassageStore, open_chroma, writer_lock
from knowledge.documents.versions import PlanVersion, SourceFile

__all__ = [
    "SECTION_NAMES",
    "DocumentError",
    "DocumentReport",
    "DocumentsRejected",
    "IndexResult",
    "Indicator",
    "KnowledgeDocumentError",
    "LoadedDocuments",
    "Passage",
    "PassageEmbedder",
    "PassageLibrary",
    "PassageSource",
    "PassageStore",
    "PassageStoreError",
    "PlanVersion",
    "SourceFile",
    "VersionError",
    "ensure_sources",
    "index_documents",
    "index_loaded",
    "load_documents",
    "open_chroma",
    "purge_versions",
    "rollback",
    "sources_unchanged",
    "split_sources",
    "writer_lock",
]
