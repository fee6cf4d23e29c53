"""Extractive and LLM answers side by side in one eval run (the LLM is LangChain's fake, no network)."""

from __future__ import annotations

from pathlib import Path

from bot.service import PlanBot
from evals.dataset import load_rows, split_paths
from evals.report import write_reports
from evals.runner import run_eval
from tests.fakes.llm import GroundedFakeChatModel, make_llm_planbot


def test_both_modes_are_scored_on_the_same_rows_and_reported_side_by_side(planbot: PlanBot, tmp_path: Path) -> None:
    rows = load_rows(split_paths("dev"), planbot.tree)[:30]
    llm_bot = make_llm_planbot(planbot, GroundedFakeChatModel())
    run = run_eval(rows, {"extractive": planbot.ask, "llm": llm_bot.ask}, planbot.tree, split="dev")
    extractive, llm = run.modes["extractive"], run.modes["llm"]
    assert [r.row.id for r in extractive.results] == [r.row.id for r in llm.results]
    modes_used = {r.answer.mode for r in llm.results if r.answer.kind == "plan"}
    assert "llm" in modes_used  # the fake's grounded answers pass the citation guard
    # Refusals stay the core's decisions, and the guard lets through only ids retrieval actually found.
    assert llm.metrics["refusal_accuracy"] == extractive.metrics["refusal_accuracy"]
    for result, plain in zip(llm.results, extractive.results, strict=True):
        retrieved = {hit.id for hit in result.answer.retrieved} | {c.id for c in plain.answer.citations}
        if result.answer.mode == "llm":
            assert result.answer.citations and {c.id for c in result.answer.citations} <= retrieved
    md_path, html_path = write_reports(run, tmp_path / "eval-dev.md")
    summary = md_path.read_text(encoding="utf-8").split("\n## ")[0] + html_path.read_text(encoding="utf-8")
    assert "extractive" in summary and "llm" in summary
