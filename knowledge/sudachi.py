"""One Sudachi dictionary per process.

Loading the core dictionary costs about 135 MB of resident memory and a few hundred milliseconds, and each
`Dictionary()` loads its own copy; a tokenizer created from a loaded dictionary costs almost nothing. Every
reader of Japanese text (BM25, kana readings, plan terms, name masking) takes its tokenizer from here.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from sudachipy import Dictionary, SplitMode, Tokenizer

_create_lock = threading.Lock()


@lru_cache(maxsize=1)
def _dictionary() -> Dictionary:
    return Dictionary(dict="core")


def tokenizer(mode: SplitMode) -> Tokenizer:
    """A new tokenizer on the shared dictionary. A tokenizer is not re-entrant: one per thread or a lock."""
    with _create_lock:
        return _dictionary().create(mode)
