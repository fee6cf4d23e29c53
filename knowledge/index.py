"""The plan in Chroma: one document per node, ids from source + content hash, idempotent re-indexing."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from bot.errors import IndexBuildError
from bot.settings import Settings
from knowledge.embeddings import ChromaEmbeddingFunction, Embedder
from knowledge.tree import PlanTree

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    total: int
    added: int
    removed: int
    unchanged: int


def open_client(settings: Settings) -> ClientAPI:
    """Chroma's own server when `CHROMA_HOST` is set, else a persistent client under the data dir."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       settings=chroma_settings)
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)
    except Exception as exc:
        raise IndexBuildError(f"cannot open the Chroma index ({type(exc).__name__})") from exc


@contextmanager
def index_lock(settings: Settings) -> Iterator[None]:
    """Serialise index building between processes on this machine (two workers starting at once).

    Against a Chroma server, content-addressed ids make concurrent upserts converge on one copy anyway.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock_path: Path = settings.data_dir / "index.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def indexed_text(tree: PlanTree, node_id: str, keywords: Mapping[str, str] | None = None) -> str:
    """What is indexed for a node: its text with breadcrumb, then its everyday words if any."""
    extra = (keywords or {}).get(node_id, "")
    return f"{tree.document_text(node_id)}\n{extra}" if extra else tree.document_text(node_id)


def chunk_id(tree: PlanTree, node_id: str, document: str) -> str:
    """Stable id: source file, node id and a hash of the exact text embedded."""
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()[:16]
    return f"{tree.source_name}:{node_id}:{digest}"


def node_metadata(tree: PlanTree, node_id: str) -> dict[str, Any]:
    """Metadata Chroma keeps beside each document: node id, kind, and its pillar/policy/measure."""
    node = tree[node_id]
    meta: dict[str, Any] = {"node_id": node_id, "kind": node.kind, "title": node.title,
                            "path": tree.breadcrumb(node_id), "source_sha256": tree.source_sha256}
    for ancestor in tree.ancestors(node_id):
        if ancestor.kind in ("pillar", "policy", "measure"):
            meta[f"{ancestor.kind}_id"] = ancestor.id
            meta[f"{ancestor.kind}_title"] = ancestor.title
    return meta


def open_index(settings: Settings, tree: PlanTree, embedder: Embedder, progress: Progress | None = None,
               keywords: Mapping[str, str] | None = None) -> PlanIndex:
    """Open the index and bring it up to date with the tree.

    An embedded index that cannot be opened or synced (deleted files, a corrupt database) is moved aside
    and rebuilt from the plan source: the index is derived data, the plan text is the truth.
    """
    try:
        index = PlanIndex(open_client(settings), embedder, settings.collection_name)
        index.sync(tree, progress, keywords)
        return index
    except IndexBuildError:
        if settings.chroma_host or not settings.index_dir.exists():
            raise
        broken = settings.index_dir.with_name(f"chroma.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        log.warning("the embedded index is unusable; moving it to %s and rebuilding", broken)
        shutil.rmtree(broken, ignore_errors=True)
        settings.index_dir.rename(broken)
        # Chroma caches one system per path in the process; the broken one must go before reopening.
        SharedSystemClient.clear_system_cache()
    index = PlanIndex(open_client(settings), embedder, settings.collection_name)
    index.sync(tree, progress, keywords)
    return index


class PlanIndex:
    """The Chroma collection holding the plan's nodes."""

    def __init__(self, client: ClientAPI, embedder: Embedder, collection_name: str) -> None:
        self._embedder = embedder
        try:
            # Always pass our function: without it Chroma falls back to its default, which downloads a model.
            self.collection: Collection = client.get_or_create_collection(
                collection_name,
                embedding_function=ChromaEmbeddingFunction(embedder),  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:
            raise IndexBuildError(f"cannot open collection {collection_name!r} ({type(exc).__name__})") from exc

    def sync(self, tree: PlanTree, progress: Progress | None = None,
             keywords: Mapping[str, str] | None = None) -> IndexReport:
        """Make the collection hold exactly the tree's nodes; unchanged nodes are not re-embedded.

        `keywords` (everyday words per node) are embedded with the node's text to help find it.
        """
        texts = {n.id: indexed_text(tree, n.id, keywords) for n in tree}
        wanted = {chunk_id(tree, node_id, text): node_id for node_id, text in texts.items()}
        try:
            existing = set(self.collection.get(include=[])["ids"])
            stale = sorted(existing - wanted.keys())
            missing = [cid for cid in wanted if cid not in existing]
            if stale:
                self.collection.delete(ids=stale)
            for done, start in enumerate(range(0, len(missing), 16), start=1):
                batch = missing[start:start + 16]
                documents = [texts[wanted[cid]] for cid in batch]
                self.collection.upsert(
                    ids=batch, documents=documents,
                    embeddings=list(self._embedder.embed_passages(documents)),
                    metadatas=[node_metadata(tree, wanted[cid]) for cid in batch],
                )
                if progress:
                    progress(min(done * 16, len(missing)), len(missing), "embedding plan nodes")
        except IndexBuildError:
            raise
        except Exception as exc:
            raise IndexBuildError(f"indexing failed ({type(exc).__name__})") from exc
        return IndexReport(len(wanted), len(missing), len(stale), len(wanted) - len(missing))

    def dense_scores(self, query_vector: np.ndarray, limit: int) -> dict[str, float]:
        """Cosine similarity of the query to the `limit` nearest nodes, by node id."""
        try:
            result = self.collection.query(query_embeddings=[query_vector], n_results=limit,
                                           include=["metadatas", "distances"])
        except Exception as exc:
            raise IndexBuildError(f"index query failed ({type(exc).__name__})") from exc
        metadatas = (result.get("metadatas") or [[]])[0]
        distances = (result.get("distances") or [[]])[0]
        return {str(m["node_id"]): 1.0 - float(d) for m, d in zip(metadatas, distances, strict=True)}

    def count(self) -> int:
        """How many documents the collection holds."""
        return int(self.collection.count())
