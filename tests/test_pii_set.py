"""The labelled PII sets are well formed, large enough, and the masker keeps its development figures."""

from __future__ import annotations

import json

from bench.pii import SETS, evaluate

TYPES = {"name", "phone", "address", "postal", "email", "building"}


def _rows(name: str) -> list[dict[str, object]]:
    lines = SETS[name].read_text(encoding="utf-8").splitlines()
    assert "サンプル（架空の内容）" in lines[0]
    return [json.loads(line) for line in lines[1:]]


def test_sets_are_labelled_by_span_and_cover_every_type() -> None:
    for name in SETS:
        rows = _rows(name)
        kinds = set()
        for row in rows:
            text = str(row["text"])
            for span in row["spans"]:  # type: ignore[attr-defined]
                assert 0 <= span["start"] < span["end"] <= len(text), (text, span)
                assert text[span["start"]:span["end"]].strip(), (text, span)
                kinds.add(span["type"])
        assert kinds >= TYPES, name
        assert any(not row["spans"] for row in rows)  # messages without personal data too
    assert len(_rows("pii_set")) >= 200


def test_development_figures_do_not_regress() -> None:
    figures, _ = evaluate(_rows("pii_set"))
    assert figures["overall"]["recall"] >= 0.95 and figures["overall"]["precision"] >= 0.9
    assert figures["name"]["recall"] >= 0.9
