"""`planbot`: ask, index, serve, eval and the operator commands."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import click

from bot.compose import render_plain
from bot.errors import PlanBotError
from bot.settings import Settings
from bot.types import Answer, Question
from evals.cli import eval_command


def _progress(done: int, total: int, what: str) -> None:
    click.echo(f"\r{what}: {done}/{total}", err=True, nl=done >= total)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log more to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Answers questions about Aomori City's comprehensive plan (青森市総合計画)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        ctx.obj = Settings()
    except (PlanBotError, ValueError) as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc


@main.command()
@click.pass_obj
def index(settings: Settings) -> None:
    """Build or update the Chroma index of the plan (idempotent)."""
    from bot.service import build_planbot

    try:
        bot = build_planbot(settings, progress=_progress)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    count = bot.retriever.index_count()
    click.echo(f"index ready: {count} plan nodes in {settings.chroma_host or settings.index_dir}")


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (per line of stdin without QUESTION).")
@click.pass_obj
def ask(settings: Settings, question: str | None, as_json: bool) -> None:
    """Answer QUESTION from the plan. With --json and no QUESTION, answer each line of stdin."""
    from bot.service import build_planbot

    try:
        bot = build_planbot(settings, progress=_progress)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    questions: Iterator[str] = iter([question]) if question is not None else _stdin_lines(as_json)
    for text in questions:
        answer = bot.ask(Question(text, channel="cli"))
        click.echo(json.dumps(_public(answer), ensure_ascii=False) if as_json else render_plain(answer))
        sys.stdout.flush()


def _stdin_lines(as_json: bool) -> Iterator[str]:
    if not as_json and sys.stdin.isatty():
        raise click.UsageError("give a QUESTION, or use --json and send questions on stdin, one per line")
    for line in sys.stdin:
        yield line.rstrip("\n")


def _public(answer: Answer) -> dict[str, object]:
    record = answer.to_public_json()
    record["answer"] = render_plain(answer)
    return record


main.add_command(eval_command, name="eval")

if __name__ == "__main__":
    main()
