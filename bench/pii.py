"""Recall and precision of personal-data masking, by type, on the labelled sets under tests/pii/.

`pii_set` is the development set (the rules were tuned on it); `pii_heldout` was written after the rules
were frozen and never used to change them. A labelled span counts as caught when a masked span overlaps
it; a masked span is correct when it overlaps some labelled span. Prints one line per type, then the
overall figures, then each miss and false alarm.

    python -m bench.pii [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from bot.store.privacy import BUILDING_LABEL, NAME_LABEL, find_personal_data

SETS = {name: Path(__file__).resolve().parent.parent / "tests" / "pii" / f"{name}.jsonl"
        for name in ("pii_set", "pii_heldout")}
LABEL_TYPES = {"[電話番号]": "phone", "[メール]": "email", "[住所]": "address", "[郵便番号]": "postal",
               "[マイナンバー]": "mynumber", NAME_LABEL: "name", BUILDING_LABEL: "building"}


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def evaluate(rows: list[dict[str, object]]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per type (and "overall"): gold, caught, predicted, correct, recall, precision; plus the error lines."""
    gold_n, caught, pred_n, correct = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    errors: list[str] = []
    for row in rows:
        text = str(row["text"])
        gold = [(int(s["start"]), int(s["end"]), str(s["type"])) for s in row["spans"]]  # type: ignore[attr-defined,index]
        predicted = [(s, e, LABEL_TYPES.get(label, label)) for s, e, label in find_personal_data(text)]
        for start, end, kind in gold:
            gold_n[kind] += 1
            if any(_overlaps((start, end), (s, e)) for s, e, _ in predicted):
                caught[kind] += 1
            else:
                errors.append(f"miss      {kind:9} {text[start:end]!r} in {text!r}")
        for start, end, kind in predicted:
            pred_n[kind] += 1
            if any(_overlaps((start, end), (s, e)) for s, e, _ in gold):
                correct[kind] += 1
            else:
                errors.append(f"false hit {kind:9} {text[start:end]!r} in {text!r}")
    figures: dict[str, dict[str, float]] = {}
    for kind in [*sorted(set(gold_n) | set(pred_n)), "overall"]:
        g = sum(gold_n.values()) if kind == "overall" else gold_n[kind]
        c = sum(caught.values()) if kind == "overall" else caught[kind]
        p = sum(pred_n.values()) if kind == "overall" else pred_n[kind]
        k = sum(correct.values()) if kind == "overall" else correct[kind]
        figures[kind] = {"gold": g, "caught": c, "masked": p, "correct": k,
                         "recall": round(c / g, 3) if g else float("nan"),
                         "precision": round(k / p, 3) if p else float("nan")}
    return figures, errors


def _load(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if '"text"' in line]


def _report(name: str, rows: list[dict[str, object]], figures: dict[str, dict[str, float]],
            errors: list[str]) -> None:
    with_pii = sum(1 for r in rows if r["spans"])
    print(f"== {name}: {len(rows)} messages ({with_pii} with personal data, {len(rows) - with_pii} without)")
    print(f"{'type':10} {'gold':>5} {'caught':>6} {'recall':>7} {'masked':>6} {'precision':>9}")
    for kind, f in figures.items():
        print(f"{kind:10} {f['gold']:5.0f} {f['caught']:6.0f} {f['recall']:7.3f} {f['masked']:6.0f} "
              f"{f['precision']:9.3f}")
    for line in errors:
        print(line)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    results = {}
    for name, path in SETS.items():
        rows = _load(path)
        figures, errors = evaluate(rows)
        results[name] = {"messages": len(rows), "by_type": figures}
        if not args.json:
            _report(name, rows, figures, errors)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
