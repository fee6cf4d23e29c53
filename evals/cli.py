"""`planbot eval`: run the gold sets, write the report, optionally gate CI or rewrite the baseline."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from bot.errors import PlanBotError
from bot.settings import Settings, settings_of
from evals.dataset import SPLIT_CHOICES
from evals.runner import Answerer, EvalRun
from knowledge.progress import ProgressPrinter

KNOWN_MODES = ("extractive", "llm")
TABLE_METRICS = (
    "answer_accuracy", "citation_precision", "citation_recall", "refusal_accuracy", "false_refusal_rate",
    "clarify_rate", "dead_end_rate",
    "hit@1", "hit@3", "hit@5", "mrr", "ndcg@5", "latency_p50_ms", "latency_p95_ms",
)


def settings_from(ctx: click.Context) -> Settings:
    """The settings of the running `planbot` command, or from the environment when run on its own."""
    try:
        return settings_of(ctx.obj)
    except PlanBotError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc


def _run_progress() -> Callable[[str, int, int], None]:
    """The runner reports (mode, done, total); the printer takes (done, total, what)."""
    printer = ProgressPrinter()
    return lambda mode, done, total: printer(done, total, mode)


def _parse_modes(value: str) -> list[str]:
    modes = [m.strip() for m in value.split(",") if m.strip()]
    unknown = [m for m in modes if m not in KNOWN_MODES]
    if unknown or not modes:
        raise click.BadParameter(f"choose from {', '.join(KNOWN_MODES)} (comma-separated)",
                                 param_hint="--modes")
    return list(dict.fromkeys(modes))


def build_answerers(settings: Settings, modes: Sequence[str]) -> dict[str, Answerer]:
    """One answerer per mode: extractive always without an LLM; `llm` only when settings.llm is set."""
    from bot.service import build_planbot

    answerers: dict[str, Answerer] = {}
    for mode in modes:
        if mode == "llm" and not settings.llm:
            click.echo("note: mode 'llm' skipped (PLANBOT_LLM is not set)", err=True)
            continue
        mode_settings = settings.model_copy(update={"llm": None}) if mode == "extractive" else settings
        answerers[mode] = build_planbot(mode_settings, progress=ProgressPrinter()).ask
    return answerers


def summary_table(run: EvalRun) -> str:
    """The metrics as a plain-text table, modes as columns."""
    modes = list(run.modes)
    width = max(len(m) for m in TABLE_METRICS)
    lines = [f"{run.split}: {run.n} rows", f"{'metric':<{width}}  " + "  ".join(f"{m:>12}" for m in modes)]
    for metric in TABLE_METRICS:
        cells = [run.modes[m].metrics.get(metric) for m in modes]
        lines.append(f"{metric:<{width}}  " + "  ".join(f"{_cell(v):>12}" for v in cells))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def json_payload(run: EvalRun, report: Path, gate: list[str] | None) -> dict[str, Any]:
    """The one JSON object `--json` prints."""
    payload: dict[str, Any] = {"split": run.split, "n": run.n, "modes": run.metrics(), "report": str(report)}
    if gate is not None:
        payload["gate"] = {"passed": not gate, "failures": gate}
    return payload


@click.group("eval", invoke_without_command=True)
@click.option("--dataset", "datasets", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL file(s) to use instead of the split's files (repeatable).")
@click.option("--split", type=click.Choice(SPLIT_CHOICES), default="dev", show_default=True,
              help="Which gold set; also names the report and selects thresholds and baseline.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Markdown report path (HTML beside it). Default: <data dir>/reports/eval-<split>.md")
@click.option("--gate", is_flag=True, help="Exit non-zero when a metric misses its threshold or baseline.")
@click.option("--write-baseline", is_flag=True, help="Store this run's metrics as the split's baseline.")
@click.option("--modes", "modes_value", default="extractive", show_default=True,
              help="Comma-separated modes to compare: extractive,llm")
@click.option("--documents", is_flag=True,
              help="The documents eval: the test fixture's 基本計画 loaded from its PDF and its DOCX "
                   "(evals/documents/questions.jsonl); with --gate: accuracy ≥ 0.95 and no invented figure.")
@click.option("--thresholds", "thresholds_path", type=click.Path(dir_okay=False, path_type=Path),
              hidden=True, help="Alternative thresholds.toml (tests).")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path),
              hidden=True, help="Alternative baseline.json (tests).")
@click.pass_context
def eval_command(ctx: click.Context, datasets: tuple[Path, ...], split: str, as_json: bool,
                 report_path: Path | None, gate: bool, write_baseline: bool, modes_value: str,
                 documents: bool, thresholds_path: Path | None, baseline_path: Path | None) -> None:
    """Run the gold question sets through the bot, report every failure, optionally gate."""
    if ctx.invoked_subcommand is not None:
        return
    if documents:
        documents_eval(ctx, report_path, gate, as_json)
        return
    from evals import gate as gating
    from evals.dataset import load_rows, split_paths
    from evals.report import default_report_path, write_reports
    from evals.runner import run_eval
    from knowledge import PLAN_SOURCE
    from knowledge.parser import parse_plan

    if write_baseline and datasets and baseline_path is None:
        raise click.UsageError("--write-baseline records a split's baseline; it cannot be used with --dataset")
    settings = settings_from(ctx)
    modes = _parse_modes(modes_value)
    try:
        tree = parse_plan(settings.plan_source or PLAN_SOURCE)
        paths = list(datasets) or split_paths(split)
        rows = load_rows(paths, tree)
        config = gating.load_config(thresholds_path or gating.THRESHOLDS_FILE)
        answerers = build_answerers(settings, modes)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    if not answerers:
        raise click.ClickException("no mode to run")
    run = run_eval(rows, answerers, tree, split=split, sources=[str(p) for p in paths],
                   progress=_run_progress())
    md_path, _ = write_reports(run, report_path or default_report_path(settings.data_dir, split))
    baseline_file = baseline_path or gating.BASELINE_FILE
    if write_baseline:
        gating.write_baseline(baseline_file, split, run.metrics())
        click.echo(f"baseline for {split} written to {baseline_file}", err=True)
    failures = None
    if gate:
        try:
            baseline = gating.load_baseline(baseline_file)
        except PlanBotError as exc:
            raise click.ClickException(str(exc)) from exc
        failures = [f.describe() for f in gating.check(run.metrics(), split, config, baseline)]
        for line in gating.below_target(run.metrics(), split, config):
            click.echo(f"BELOW TARGET (not failing the gate): {line}", err=True)
    _output(run, md_path, failures, as_json)
    if failures:
        ctx.exit(1)



def documents_eval(ctx: click.Context, report_path: Path | None, gate: bool, as_json: bool) -> None:
    """`planbot eval --documents [--gate]`: see evals/documents.py."""
    from bot.service import build_planbot
    from evals.documents import gate_failures, load_questions, metrics, run_documents_eval, write_report
    from knowledge.documents import KnowledgeDocumentError

    settings = settings_from(ctx).model_copy(update={"llm": None, "plan_sources": None})
    try:
        base = build_planbot(settings, progress=ProgressPrinter(), load_sources=False)
        printer = ProgressPrinter()
        results = run_documents_eval(base, load_questions(), progress=printer)
    except (PlanBotError, KnowledgeDocumentError) as exc:
        raise click.ClickException(str(exc)) from exc
    scores = {fmt: metrics(found) for fmt, found in results.items()}
    path = report_path or settings.data_dir / "reports" / "eval-documents.md"
    write_report(results, scores, path)
    failures = gate_failures(scores) if gate else None
    if as_json:
        payload: dict[str, Any] = {"documents": scores, "report": str(path)}
        if failures is not None:
            payload["gate"] = {"passed": not failures, "failures": failures}
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        names = list(next(iter(scores.values())))
        click.echo("documents eval: " + ", ".join(f"{fmt} {int(v['rows'])} rows" for fmt, v in scores.items()))
        click.echo(f"{'metric':<16}  " + "  ".join(f"{fmt:>8}" for fmt in scores))
        for name in names[1:]:
            click.echo(f"{name:<16}  " + "  ".join(f"{_cell(float(v[name])):>8}" for v in scores.values()))
        click.echo(f"report: {path}")
    for line in failures or []:
        click.echo(f"GATE FAILED: {line}", err=True)
    if failures is not None and not failures:
        click.echo("gate passed (documents)", err=True)
    if failures:
        ctx.exit(1)


def _output(run: EvalRun, md_path: Path, failures: list[str] | None, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(json_payload(run, md_path, failures), ensure_ascii=False))
    else:
        click.echo(summary_table(run))
        click.echo(f"report: {md_path} (and {md_path.with_suffix('.html').name})")
    if failures is None:
        return
    for line in failures:
        click.echo(f"GATE FAILED: {line}", err=True)
    if not failures:
        click.echo(f"gate passed ({run.split})", err=True)


@eval_command.command("export-reviewed")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSONL file to merge into. Default: evals/datasets/reviewed.jsonl")
@click.pass_context
def export_reviewed(ctx: click.Context, out_path: Path | None) -> None:
    """Turn reviewers' corrected answers into eval rows (id r-<answer id>), merged by id."""
    from bot.store.db import open_database
    from evals.reviewed import REVIEWED_FILE, merge_rows, reviewed_rows

    settings = settings_from(ctx)
    target = out_path or REVIEWED_FILE
    try:
        database = open_database(settings)
        try:
            rows = reviewed_rows(database)
        finally:
            database.dispose()
        added, updated = merge_rows(target, rows)
    except (PlanBotError, OSError, ValueError) as exc:
        raise click.ClickException(f"export failed: {exc}") from exc
    click.echo(f"{len(rows)} reviewed answers: {added} added, {updated} updated in {target}")


@eval_command.command("calibrate")
@click.pass_context
def calibrate_command(ctx: click.Context) -> None:
    """Grid-search the core's thresholds on the dev split (test is never used for tuning)."""
    from bot.service import build_planbot
    from evals.calibrate import as_code, calibrate
    from evals.dataset import load_rows, split_paths

    settings = settings_from(ctx).model_copy(update={"llm": None})
    try:
        bot = build_planbot(settings, progress=ProgressPrinter())
        rows = load_rows(split_paths("dev"), bot.tree)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    trials = calibrate(bot, rows, progress=lambda line: click.echo(line, err=True))
    best = trials[0]
    click.echo(f"current: {as_code(bot.thresholds)}\n")
    click.echo(f"best on dev: accuracy {best.answer_accuracy:.3f}, precision {best.citation_precision:.3f}, "
               f"refusals {best.refusal_accuracy:.3f}\n{as_code(best.thresholds)}")
