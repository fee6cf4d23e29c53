"""`planbot eval --documents`: the test fixture's 基本計画 (サンプル（架空の内容）) loaded from its PDF and from its
DOCX, each into its own embedded Chroma, and the questions of evals/documents/questions.jsonl asked through the
real core. Deterministic metrics, no judge:

- `accuracy`: rows passed (answerable: the right node first, the right section, every figure exact, every
  required text present, nothing forbidden; figures the document lacks: refused with no figure);
- `node_first`: answerable rows whose first citation is the gold node;
- `figures_exact`: figure rows whose figures stand in the answer exactly (NFKC, thousands separators dropped);
- `refusals`: rows about figures the document lacks that were refused;
- `invented_figures`: answers holding a number that is in neither the document, the plan (its text and node ids),
  the question nor the fixed texts (the city's contact, the version's label and id, a cited page 「p.9」). It
  must be 0.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.passages import PassageFinder
from bot.service import PlanBot
from bot.types import Answer, Question
from knowledge.documents import PassageLibrary, index_documents, open_chroma

ROOT = Path(__file__).resolve().parents[1]
DATASET = Path(__file__).with_name("documents") / "questions.jsonl"
FIXTURE = ROOT / "tests" / "fixtures" / "sample_plan"
FORMATS = ("pdf", "docx")
THRESHOLDS = Path(__file__).with_name("thresholds.toml")
REFUSED = ("not_in_plan", "out_of_scope")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CITED_PAGE = re.compile(r"\bp\.\d+")


def numbers_in(text: str) -> set[str]:
    """Every number in the text, NFKC, without thousands separators: 「3,000件」 → {"3000"}."""
    folded = re.sub(r"(?<=\d),(?=\d{3})", "", unicodedata.normalize("NFKC", text))
    return set(_NUMBER.findall(folded))


@dataclass(frozen=True)
class DocumentRow:
    id: str
    question: str
    gold: str
    answerable: bool
    section: str | None
    figures: tuple[str, ...]
    must_include: tuple[str, ...]
    must_not_include: tuple[str, ...]
    tags: tuple[str, ...]


def load_questions(path: Path = DATASET) -> list[DocumentRow]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            rows.append(DocumentRow(raw["id"], raw["question"], raw["gold"], raw["answerable"], raw["section"],
                                    tuple(raw["figures"]), tuple(raw["must_include"]),
                                    tuple(raw["must_not_include"]), tuple(raw["tags"])))
    return rows


@dataclass
class RowResult:
    row: DocumentRow
    answer: Answer
    passed: bool
    reasons: list[str] = field(default_factory=list)
    invented: set[str] = field(default_factory=set)


def judge(row: DocumentRow, answer: Answer, allowed: set[str]) -> RowResult:
    """One row against one answer: passed, and why not."""
    cited = _CITED_PAGE.sub(" ", answer.text)  # 「sample_plan.pdf p.9」 names a page, not a figure
    invented = numbers_in(cited) - allowed - numbers_in(row.question)
    reasons = [f"invented figures {sorted(invented)}"] if invented else []
    text = answer.text
    if row.answerable:
        first = answer.citations[0] if answer.citations else None
        if answer.kind != "plan":
            reasons.append(f"kind {answer.kind}")
        if first is None or first.id != row.gold:
            reasons.append(f"first citation {first.id if first else None}, not {row.gold}")
        elif first.section != row.section:
            reasons.append(f"section {first.section}, not {row.section}")
        folded = numbers_in(text)
        reasons += [f"figure {f} missing" for f in row.figures if not numbers_in(f) <= folded]
        reasons += [f"missing 「{s}」" for s in row.must_include if s not in text]
    elif answer.answerable or answer.kind not in REFUSED:
        reasons.append(f"not refused (kind {answer.kind})")
    reasons += [f"holds 「{s}」" for s in row.must_not_include if s in text]
    return RowResult(row, answer, not reasons, reasons, invented)


def metrics(results: Sequence[RowResult]) -> dict[str, float | int]:
    answerable = [r for r in results if r.row.answerable]
    figures = [r for r in answerable if r.row.figures]
    absent = [r for r in results if not r.row.answerable]

    def share(rows: Sequence[RowResult], ok: Callable[[RowResult], bool]) -> float:
        return sum(ok(r) for r in rows) / len(rows) if rows else 0.0

    return {
        "rows": len(results),
        "accuracy": share(results, lambda r: r.passed),
        "node_first": share(answerable, lambda r: bool(r.answer.citations) and r.answer.citations[0].id == r.row.gold),
        "figures_exact": share(figures, lambda r: all(numbers_in(f) <= numbers_in(r.answer.text)
                                                      for f in r.row.figures)),
        "refusals": share(absent, lambda r: not r.answer.answerable and r.answer.kind in REFUSED),
        "invented_figures": sum(1 for r in results if r.invented),
    }


def allowed_numbers(bot: PlanBot, source: Path, label: str) -> set[str]:
    """Numbers an answer may hold: those of the document, the plan, the contact and the version label."""
    plan = " ".join([*(bot.tree.document_text(node.id) for node in bot.tree), *(node.id for node in bot.tree)])
    return (numbers_in((FIXTURE / "sample_plan.md").read_text(encoding="utf-8")) | numbers_in(plan)
            | numbers_in(bot.settings.city_contact) | numbers_in(label) | numbers_in(source.name))


def with_library(base: PlanBot, library: PassageLibrary) -> PlanBot:
    """The core (tree, index, classifier) reading passages from `library`."""
    return PlanBot(base.settings, base.tree, base.embedder, base.understand, base.retriever, base.compose,
                   base.thresholds, passages=PassageFinder(library, base.embedder), cues=base.cues)


def run_documents_eval(base: PlanBot, rows: Sequence[DocumentRow], formats: Sequence[str] = FORMATS,
                       progress: Callable[[int, int, str], None] | None = None) -> dict[str, list[RowResult]]:
    """Each format of the fixture loaded into its own temporary store, every row asked through `PlanBot.ask`."""
    results: dict[str, list[RowResult]] = {}
    for fmt in formats:
        source = FIXTURE / f"sample_plan.{fmt}"
        label = f"サンプル基本計画 {fmt}"
        with tempfile.TemporaryDirectory(prefix=f"planbot-docs-eval-{fmt}-") as folder:
            library = PassageLibrary(open_chroma(Path(folder)), base.settings.collection_name)
            index_documents(library, base.tree, base.embedder, [source], label=label)
            bot = with_library(base, library)
            version = library.current_version()
            allowed = allowed_numbers(bot, source, label) | numbers_in(version.id if version else "")
            found = []
            for done, row in enumerate(rows, start=1):
                found.append(judge(row, bot.ask(Question(row.question)), allowed))
                if progress:
                    progress(done, len(rows), f"documents eval ({fmt})")
            results[fmt] = found
    return results


def gate_failures(scores: dict[str, dict[str, Any]], thresholds: Path = THRESHOLDS) -> list[str]:
    """Lines for the CI log: each format whose accuracy or invented figures miss the [documents] gate of
    thresholds.toml (accuracy ≥ 0.95, invented figures 0)."""
    limits = tomllib.loads(thresholds.read_text(encoding="utf-8"))["documents"]
    least, most = float(limits["accuracy"]), int(limits["invented_figures"])
    failures = []
    for fmt, values in scores.items():
        if values["accuracy"] < least - 1e-9:
            failures.append(f"[documents {fmt}] accuracy = {values['accuracy']:.3f}, below the minimum {least:.3f}")
        if values["invented_figures"] > most:
            failures.append(f"[documents {fmt}] invented figures = {values['invented_figures']}, above {most}")
    return failures


def failure_lines(results: dict[str, list[RowResult]]) -> list[str]:
    """Every failed row, for the report."""
    return [f"{fmt} {r.row.id} {r.row.question} — {'; '.join(r.reasons)}\n    {r.answer.text[:300]!r}"
            for fmt, found in results.items() for r in found if not r.passed]


def write_report(results: dict[str, list[RowResult]], scores: dict[str, dict[str, Any]], path: Path) -> None:
    """The scores and every failed row, as Markdown."""
    lines = ["# Documents eval", "", "| format | " + " | ".join(next(iter(scores.values()))) + " |",
             "| --- |" + " --- |" * len(next(iter(scores.values())))]
    for fmt, values in scores.items():
        lines.append(f"| {fmt} | " + " | ".join(_shown(v) for v in values.values()) + " |")
    lines += ["", "## Failures", ""] + [f"- {line}" for line in failure_lines(results)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    answers = [{"format": fmt, "id": r.row.id, "passed": r.passed, "reasons": r.reasons, "kind": r.answer.kind,
                "citations": [c.public() for c in r.answer.citations], "text": r.answer.text}
               for fmt, found in results.items() for r in found]
    path.with_suffix(".answers.jsonl").write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in answers), encoding="utf-8")


def _shown(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}"
