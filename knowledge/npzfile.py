"""Arrays written to an `.npz` file atomically: the caches of derived data (the kind model, passage vectors)
are shared by processes that may read, or write, at the same moment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import numpy as np


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write `arrays` to `path` (its folder created); a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")  # processes writing at once write apart
    with partial.open("wb") as out:
        # numbers only: a cache file must not be able to carry pickled code
        np.savez(out, allow_pickle=False, **cast(dict[str, Any], arrays))
    partial.replace(path)
