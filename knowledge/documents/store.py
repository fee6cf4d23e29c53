"""The passage store the core reads: the current version's passages in Chroma, by node or by similarity.

    library = PassageLibrary(client, namespace=settings.collection_name)
    store = library.current()            # None while no 基本計画 document is loaded
    store.passages_for(["3.2.2"])        # every passage of a node, in document order
    store.search(query_vector, ["3.2.2"], k=5)   # the nearest passages among those nodes
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from knowledge.documents.errors import PassageStoreError
from knowledge.documents.model import Indicator, Passage, PassageSource
from knowledge.documents.versions import PlanVersion, VersionRegistry


def open_chroma(data_dir: Path, host: str | None = None, port: int = 8000) -> ClientAPI:
    """Chroma's server when `host` is set (CHROMA_HOST), else the embedded store under `data_dir/chroma` —
    the same store and client settings as the plan index."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        (data_dir / "chroma").mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise PassageStoreError(f"cannot open the Chroma store ({type(exc).__name__})") from exc


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """One writer at a time on this machine: the same lock file as the plan index build."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "index.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_INDICATOR_FIELDS = ("name", "current_value", "current_year", "target_value", "target_year", "unit")


class PassageEmbedder(Protocol):
    """What the store needs from an embedder (`knowledge.embeddings.Embedder` fits)."""

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


def passage_metadata(passage: Passage) -> dict[str, str | int]:
    """What Chroma keeps beside a passage (Chroma has no None: a missing page is 0)."""
    meta: dict[str, str | int] = {"node_id": passage.node_id, "section": passage.section,
                                  "file": passage.source.file, "page": passage.source.page or 0,
                                  "order": passage.order}
    if passage.indicator is not None:
        for name in _INDICATOR_FIELDS:
            meta[f"indicator_{name}"] = getattr(passage.indicator, name)
    return meta


def passage_from_record(document: str, meta: dict[str, Any], label: str, score: float = 0.0) -> Passage:
    """The inverse of `passage_metadata`, with the version's label as the source."""
    indicator = None
    if "indicator_name" in meta:
        indicator = Indicator(*(str(meta[f"indicator_{name}"]) for name in _INDICATOR_FIELDS))
    page = int(meta.get("page", 0)) or None
    source = PassageSource(label, str(meta.get("file", "")), page)
    return Passage(str(meta["node_id"]), str(meta["section"]), document, source, indicator,
                   int(meta.get("order", 0)), score)


class PassageStore:
    """One version's passages. Thread-safe for reading."""

    def __init__(self, version: PlanVersion, collection: Collection) -> None:
        self.version = version
        self._collection = collection

    def passages_for(self, node_ids: Sequence[str]) -> list[Passage]:
        """Every passage attached to these nodes (exactly these ids), in document order."""
        if not node_ids:
            return []
        try:
            result = self._collection.get(where=_nodes_filter(node_ids), include=["documents", "metadatas"])
        except Exception as exc:
            raise PassageStoreError(f"passage lookup failed ({type(exc).__name__})") from exc
        documents = result.get("documents") or []
        metadatas = result.get("metadatas") or []
        passages = [passage_from_record(str(d), dict(m), self.version.label)
                    for d, m in zip(documents, metadatas, strict=True)]
        return sorted(passages, key=lambda p: p.order)

    def search(self, query_vector: np.ndarray, node_ids: Sequence[str] | None, k: int) -> list[Passage]:
        """The `k` passages nearest the query (cosine), among `node_ids` (all nodes when None), best first."""
        if k <= 0 or (node_ids is not None and not node_ids):
            return []
        try:
            result = self._collection.query(
                query_embeddings=[np.asarray(query_vector, dtype=np.float32).tolist()], n_results=k,
                where=_nodes_filter(node_ids) if node_ids else None,
                include=["documents", "metadatas", "distances"],
            )
        except Exception as exc:
            raise PassageStoreError(f"passage search failed ({type(exc).__name__})") from exc
        documents = (result.get("documents") or [[]])[0]
        metadatas = (result.get("metadatas") or [[]])[0]
        distances = (result.get("distances") or [[]])[0]
        return [passage_from_record(str(d), dict(m), self.version.label, 1.0 - float(dist))
                for d, m, dist in zip(documents, metadatas, distances, strict=True)]

    def indicator_rows(self) -> list[Passage]:
        """Every 指標 row of this version, in document order (figure questions look across all measures)."""
        try:
            result = self._collection.get(where={"section": "指標"}, include=["documents", "metadatas"])
        except Exception as exc:
            raise PassageStoreError(f"passage lookup failed ({type(exc).__name__})") from exc
        passages = [passage_from_record(str(d), dict(m), self.version.label)
                    for d, m in zip(result.get("documents") or [], result.get("metadatas") or [], strict=True)]
        return sorted((p for p in passages if p.indicator is not None), key=lambda p: p.order)

    def count(self) -> int:
        """How many passages this version holds."""
        return int(self._collection.count())


class PassageLibrary:
    """All kept versions, and the current one. `current()` re-reads the pointer at most every
    `refresh_seconds`, so a running `serve` moves to a new version soon after `planbot index` switches."""

    def __init__(self, client: ClientAPI, namespace: str, refresh_seconds: float = 1.0) -> None:
        self.client = client
        self.registry = VersionRegistry(client, namespace)
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, PassageStore | None] | None = None

    def current(self) -> PassageStore | None:
        """The store answering now; None when no document version is current (the 体系図 alone)."""
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self._refresh_seconds:
                return self._cached[1]
            store = self._open_current()
            self._cached = (now, store)
            return store

    def current_version(self) -> PlanVersion | None:
        """The version answering now (what the answer log records with each answer)."""
        store = self.current()
        return store.version if store is not None else None

    def invalidate(self) -> None:
        """Forget the cached pointer (after this process switched versions itself)."""
        with self._lock:
            self._cached = None

    def open(self, version: PlanVersion) -> PassageStore:
        """A store over one kept version."""
        try:
            collection = self.client.get_collection(version.collection, embedding_function=None)
        except Exception as exc:
            raise PassageStoreError(f"the passages of version {version.id} are missing "
                                    f"({type(exc).__name__})") from exc
        return PassageStore(version, collection)

    def _open_current(self) -> PassageStore | None:
        state = self.registry.state()
        if self._cached is not None and self._cached[1] is not None and self._cached[1].version.id == state.current:
            return self._cached[1]
        version = state.find(state.current)
        return self.open(version) if version is not None else None


def _nodes_filter(node_ids: Sequence[str]) -> Any:
    ids = list(dict.fromkeys(node_ids))
    return {"node_id": ids[0]} if len(ids) == 1 else {"node_id": {"$in": ids}}
