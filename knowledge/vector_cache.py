"""Passage vectors kept on disk by the hash of their text, so that building the index again (a damaged index
moved aside, a new data dir, another host sharing `PLANBOT_MODEL_CACHE`) embeds only what it never embedded.

The index stays the store of record; this file is a cache of a deterministic function (same model, same
text, same vector), so a missing or unreadable file only costs the embedding time again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.npzfile import write_npz
from knowledge.progress import Counted

log = logging.getLogger(__name__)
#: At most this many vectors are kept (≈ 1.5 KB each); beyond, only the latest call's are.
MAX_VECTORS = 50_000


def text_key(embedder_name: str, text: str) -> str:
    """The cache key of one passage embedded by one model."""
    return hashlib.sha256(f"{embedder_name}\0passage\0{text}".encode()).hexdigest()[:32]


class PassageVectorCache:
    """`embed_passages` through a file of earlier results."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def embed_passages(self, embedder: Embedder, texts: Sequence[str],
                       on_progress: Counted | None = None) -> np.ndarray:
        """The texts' passage vectors (one row each, in order); only unknown texts reach the embedder."""
        if not texts:  # an index already in sync asks for nothing: no file to read at start-up
            return np.zeros((0, 0), dtype=np.float32)
        known = self._read()
        keys = [text_key(embedder.name, text) for text in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in known}
        if missing:
            fresh = embedder.embed_passages(list(missing.values()), on_progress)
            known.update(zip(missing, fresh, strict=True))
            self._write(known, keys)
        elif on_progress:
            on_progress(len(texts), len(texts))
        return np.vstack([known[key] for key in keys]).astype(np.float32)

    def _read(self) -> dict[str, np.ndarray]:
        if not self.path.exists():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                return dict(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))
        except Exception as exc:  # truncated or foreign: embed again rather than fail
            log.warning("the passage vector cache %s is unreadable (%s); embedding again", self.path.name,
                        type(exc).__name__)
            return {}

    def _write(self, vectors: dict[str, np.ndarray], latest: Sequence[str]) -> None:
        if len(vectors) > MAX_VECTORS:
            vectors = {key: vectors[key] for key in latest}
        try:
            write_npz(self.path, keys=np.array(list(vectors), dtype=str),
                      vectors=np.vstack(list(vectors.values())).astype(np.float32))
        except OSError as exc:  # a read-only cache dir: the index is built all the same
            log.warning("cannot write the passage vector cache %s (%s)", self.path, exc)
