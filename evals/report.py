"""The eval report as Markdown and as static HTML (all escaped, no scripts): summary, tags, failures."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from evals.runner import EvalRun, RowResult

SUMMARY_METRICS = (
    "n", "answer_accuracy", "citation_precision", "citation_recall", "refusal_accuracy",
    "false_refusal_rate", "hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "latency_p50_ms", "latency_p95_ms",
)


def default_report_path(data_dir: Path, split: str) -> Path:
    """`<data_dir>/reports/eval-<split>.md` (the HTML goes beside it)."""
    return data_dir / "reports" / f"eval-{split}.md"


def write_reports(run: EvalRun, md_path: Path) -> tuple[Path, Path]:
    """Write the Markdown report to `md_path` and the HTML one beside it; return both paths."""
    md_path.parent.mkdir(parents=True, exist_ok=True)
    html_path = md_path.with_suffix(".html")
    md_path.write_text(render_markdown(run), encoding="utf-8")
    html_path.write_text(render_html(run), encoding="utf-8")
    return md_path, html_path


def fmt(value: Any) -> str:
    """A metric value for a table cell."""
    if value is None:
        return "–"
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def summary_rows(run: EvalRun) -> list[list[str]]:
    """Metric name, then one cell per mode."""
    return [[name, *(fmt(m.metrics.get(name)) for m in run.modes.values())] for name in SUMMARY_METRICS]


def tag_rows(run: EvalRun) -> list[list[str]]:
    """Tag, then `accuracy (n)` per mode."""
    tags = sorted({tag for m in run.modes.values() for tag in m.metrics.get("by_tag", {})})
    rows = []
    for tag in tags:
        cells = []
        for mode in run.modes.values():
            entry = mode.metrics.get("by_tag", {}).get(tag)
            cells.append(f"{fmt(entry['answer_accuracy'])} ({entry['n']})" if entry else "–")
        rows.append([tag, *cells])
    return rows


def failure_fields(result: RowResult) -> list[tuple[str, str]]:
    """The labelled facts of one failure, in report order (answer text excluded)."""
    row, answer = result.row, result.answer
    cited = ", ".join(c.id for c in answer.citations) or "(none)"
    return [
        ("expected gold", ", ".join(row.gold) or "(none)"),
        ("acceptable", ", ".join(row.acceptable) or "(none)"),
        ("actual citations", cited),
        ("answerable expected / actual", f"{row.answerable} / {answer.answerable} (kind={answer.kind})"),
        ("why it failed", "; ".join(result.score.reasons)),
        ("tags", ", ".join(row.tags) or "(none)"),
        ("source", row.origin),
    ]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return [line(header), "| " + " | ".join("---" for _ in header) + " |", *(line(r) for r in rows)]


def render_markdown(run: EvalRun) -> str:
    """The whole report as Markdown."""
    modes = list(run.modes)
    sources = ", ".join(run.sources) or "(given rows)"
    out = [f"# planbot eval — {run.split}", "", f"{run.n} rows from {sources}.", ""]
    out += ["## Summary", "", *_md_table(["metric", *modes], summary_rows(run)), ""]
    out += ["## Answer accuracy by tag", "", *_md_table(["tag", *modes], tag_rows(run)), ""]
    for name, mode in run.modes.items():
        failures = mode.failures
        out += [f"## Failures — {name} ({len(failures)})", ""]
        for result in failures:
            out += [f"### {result.row.id}: {result.row.question}", ""]
            out += [f"- **{label}**: {value}" for label, value in failure_fields(result)]
            out += ["", "````text", result.answer.text, "````", ""]
        if not failures:
            out += ["None.", ""]
    return "\n".join(out)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_failure(result: RowResult) -> str:
    title = html.escape(f"{result.row.id}: {result.row.question}")
    facts = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>"
                    for label, value in failure_fields(result))
    text = html.escape(result.answer.text)
    return f"<section class=failure><h3>{title}</h3><dl>{facts}</dl><pre>{text}</pre></section>"


_STYLE = (
    "body{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left}"
    "dt{font-weight:bold}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}"
)


def render_html(run: EvalRun) -> str:
    """The whole report as a static HTML page."""
    modes = list(run.modes)
    sources = ", ".join(run.sources) or "(given rows)"
    parts = [
        "<!doctype html>", '<html lang="ja"><head><meta charset="utf-8">',
        f"<title>{html.escape(f'planbot eval — {run.split}')}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(f'planbot eval — {run.split}')}</h1>",
        f"<p>{html.escape(f'{run.n} rows from {sources}.')}</p>",
        "<h2>Summary</h2>", _html_table(["metric", *modes], summary_rows(run)),
        "<h2>Answer accuracy by tag</h2>", _html_table(["tag", *modes], tag_rows(run)),
    ]
    for name, mode in run.modes.items():
        failures = mode.failures
        parts.append(f"<h2>{html.escape(f'Failures — {name} ({len(failures)})')}</h2>")
        parts += [_html_failure(r) for r in failures] or ["<p>None.</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)
