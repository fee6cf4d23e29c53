"""The gold question sets: one JSON object per line, validated against the parsed plan tree."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import PlanBotError
from knowledge.tree import PlanTree

DATASETS_DIR = Path(__file__).with_name("datasets")
SPLITS = ("dev", "test")
SPLIT_CHOICES = (*SPLITS, "all")

_LIST_FIELDS = ("gold", "acceptable", "must_include", "must_not_include", "tags")
_REQUIRED = ("id", "question", "gold", "answerable")
# Free-text fields a curator may add; ignored by the metrics.
_IGNORED = ("note", "notes", "source")
#: `expect: "clarify"` marks a question whose right answer is to ask which of its gold nodes the user means.
EXPECTATIONS = ("clarify",)
_KNOWN = frozenset((*_REQUIRED, *_LIST_FIELDS, *_IGNORED, "expect"))


class DatasetError(PlanBotError):
    """A dataset file is missing, is not JSONL, or a row is malformed (the message names file:line)."""


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One gold question. `gold` ids must be cited (or covered); `acceptable` ids may be cited too."""

    id: str
    question: str
    gold: tuple[str, ...]
    acceptable: tuple[str, ...]
    answerable: bool
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    origin: str = ""
    expect: str | None = None

    @property
    def allowed(self) -> frozenset[str]:
        """gold ∪ acceptable."""
        return frozenset(self.gold) | frozenset(self.acceptable)


def split_paths(split: str, datasets_dir: Path = DATASETS_DIR) -> list[Path]:
    """The files of a split: `dev`, `test`, or `all` (both)."""
    if split not in SPLIT_CHOICES:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_CHOICES)}")
    names = SPLITS if split == "all" else (split,)
    return [datasets_dir / f"{name}.jsonl" for name in names]


def load_rows(paths: Iterable[Path], tree: PlanTree) -> list[EvalRow]:
    """Read and validate every row of every file; row ids must be unique across the files."""
    rows: list[EvalRow] = []
    seen: dict[str, str] = {}
    for path in paths:
        for row in _load_file(Path(path), tree):
            if row.id in seen:
                raise DatasetError(f"{row.origin}: duplicate row id {row.id!r} (first at {seen[row.id]})")
            seen[row.id] = row.origin
            rows.append(row)
    return rows


def _load_file(path: Path, tree: PlanTree) -> list[EvalRow]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: dataset file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read dataset ({type(exc).__name__})") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        origin = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{origin}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
        rows.append(parse_row(record, tree, origin))
    return rows


def parse_row(record: Any, tree: PlanTree, origin: str) -> EvalRow:
    """Validate one decoded JSON object and turn it into an EvalRow."""
    if not isinstance(record, dict):
        raise DatasetError(f"{origin}: a row must be a JSON object, got {type(record).__name__}")
    missing = [name for name in _REQUIRED if name not in record]
    if missing:
        raise DatasetError(f"{origin}: missing field(s): {', '.join(missing)}")
    unknown = sorted(set(record) - _KNOWN)
    if unknown:
        raise DatasetError(f"{origin}: unknown field(s): {', '.join(unknown)}")
    row_id, question, answerable = record["id"], record["question"], record["answerable"]
    if not isinstance(row_id, str) or not row_id.strip():
        raise DatasetError(f"{origin}: 'id' must be a non-empty string")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f"{origin}: 'question' must be a non-empty string")
    if not isinstance(answerable, bool):
        raise DatasetError(f"{origin}: 'answerable' must be true or false")
    lists = {name: _string_list(record, name, origin) for name in _LIST_FIELDS}
    _check_ids(lists["gold"] + lists["acceptable"], tree, origin)
    if answerable and not lists["gold"]:
        raise DatasetError(f"{origin}: an answerable row needs at least one gold id")
    expect = record.get("expect")
    if expect is not None and (expect not in EXPECTATIONS or not answerable):
        raise DatasetError(f"{origin}: 'expect' must be one of {', '.join(EXPECTATIONS)} on an answerable row")
    return EvalRow(
        id=row_id, question=question, gold=lists["gold"], acceptable=lists["acceptable"],
        answerable=answerable, must_include=lists["must_include"],
        must_not_include=lists["must_not_include"], tags=lists["tags"], origin=origin, expect=expect,
    )


def _string_list(record: dict[str, Any], name: str, origin: str) -> tuple[str, ...]:
    value = record.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise DatasetError(f"{origin}: {name!r} must be a list of non-empty strings")
    return tuple(value)


def _check_ids(ids: Sequence[str], tree: PlanTree, origin: str) -> None:
    unknown = [node_id for node_id in ids if node_id not in tree]
    if unknown:
        raise DatasetError(f"{origin}: unknown plan node id(s): {', '.join(unknown)}")
