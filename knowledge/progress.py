"""Progress of long work (indexing, training, evaluating) on stderr, for every command that does it.

One updating line on a terminal; otherwise whole lines, each tenth of the way and at the end, so that a log
or CI output gets lines, not carriage returns. The CLI and the eval commands share it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

#: `progress(done, total, what)`: how indexing, training and ingesting report long work.
Progress = Callable[[int, int, str], None]
#: `on_progress(done, total)`: one step's count (a long embedding batch), which does not know its name.
Counted = Callable[[int, int], None]


def counting(progress: Progress | None, what: str) -> Counted | None:
    """`progress` narrowed to one named step."""
    if progress is None:
        return None
    return lambda done, total: progress(done, total, what)


class ProgressPrinter:
    """`progress(done, total, what)` as knowledge.index and bot.service call it."""

    def __init__(self, terminal: bool | None = None, stream: TextIO | None = None) -> None:
        self._stream = stream
        self.terminal = self._out().isatty() if terminal is None else terminal
        self._shown: dict[str, int] = {}

    def __call__(self, done: int, total: int, what: str) -> None:
        """Report `done` of `total` for the step `what`."""
        if self.terminal:
            self._write(f"\r{what}: {done}/{total}" + ("\n" if done >= total else ""))
            return
        tenth = 10 if total <= 0 else min(10, done * 10 // total)
        if self._shown.get(what, -1) >= tenth and done < total:
            return
        if done >= total and self._shown.get(what) == 10:
            return
        self._shown[what] = tenth
        self._write(f"{what}: {done}/{total}\n")

    def _out(self) -> TextIO:
        return self._stream or sys.stderr  # looked up late: test runners swap sys.stderr

    def _write(self, text: str) -> None:
        out = self._out()
        out.write(text)
        out.flush()
