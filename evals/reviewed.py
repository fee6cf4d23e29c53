"""Reviewers' corrections as eval rows: `planbot eval export-reviewed` merges them into reviewed.jsonl."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import AnswerRecord
from evals.dataset import DATASETS_DIR

REVIEWED_FILE = DATASETS_DIR / "reviewed.jsonl"


def reviewed_rows(database: Database) -> list[dict[str, Any]]:
    """One eval row per corrected answer, oldest first: the corrected citations are the gold."""
    stmt = (select(AnswerRecord).where(AnswerRecord.corrected_answer.is_not(None))
            .order_by(AnswerRecord.id))
    with database.session() as session:
        records = list(session.scalars(stmt))
    rows = []
    for record in records:
        gold = list(record.corrected_citations or [])
        rows.append({
            "id": f"r-{record.id}", "question": record.question, "gold": gold, "acceptable": [],
            "answerable": bool(gold), "must_include": [], "must_not_include": [],
            "tags": ["reviewed", record.channel],
        })
    return rows


def merge_rows(path: Path, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Merge rows into a JSONL file by id (replaced in place, new ones appended); returns (added, updated).

    Running it again with the same rows leaves the file byte-for-byte unchanged.
    """
    existing: list[dict[str, Any]] = []
    if path.exists():
        existing = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    position = {str(row.get("id")): i for i, row in enumerate(existing)}
    added = updated = 0
    for row in rows:
        at = position.get(row["id"])
        if at is None:
            position[row["id"]] = len(existing)
            existing.append(row)
            added += 1
        elif existing[at] != row:
            existing[at] = row
            updated += 1
    _write_atomically(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in existing))
    return added, updated


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
