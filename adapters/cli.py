"""`planbot`: ask, index, serve, eval and the operator commands."""

from __future__ import annotations

import itertools
import json
import logging
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import click

from adapters.answer_text import Titles, render_plain
from adapters.cli_context import ProgressPrinter
from adapters.cli_line import line_group
from adapters.review_cli import purge_command, reviewer_group
from bot.errors import PlanBotError
from bot.settings import Settings
from bot.types import Answer, Question

#: How long uvicorn's supervisor waits for a worker process to answer its ping before killing it.
WORKER_PING_TIMEOUT_S = 60


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
@click.option("--source", "sources", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="A 基本計画 document (PDF with a text layer, .docx, .html, .md, .txt); repeatable. "
                   "Default: PLANBOT_PLAN_SOURCES.")
@click.option("--label", default=None, help="The new version's label, shown in citations (e.g. 基本計画 2026年3月版).")
@click.option("--list", "list_versions", is_flag=True, help="List the document versions kept; * marks the current one.")
@click.option("--rollback", is_flag=True, help="Make the previous document version current again.")
@click.option("--strict", is_flag=True, help="Fail (exit 1, nothing written) when a measure with a heading has no "
                                             "readable 指標 row or no 主な取組 item.")
@click.pass_obj
def index(settings: Settings, sources: tuple[Path, ...], label: str | None, list_versions: bool,
          rollback: bool, strict: bool) -> None:
    """Build or update the Chroma index of the plan (idempotent); with --source, load documents as a new version."""
    from adapters.cli_index import index_documents_command, list_command, rollback_command

    if sum((bool(sources), list_versions, rollback)) > 1:
        raise click.UsageError("use one of --source, --list and --rollback")
    if list_versions:
        list_command(settings)
        return
    if rollback:
        rollback_command(settings)
        return
    from knowledge.documents import split_sources

    paths = list(sources) or split_sources(settings.plan_sources)
    if label is not None and not paths:
        raise click.UsageError("--label names a version made from --source files")
    if paths:
        index_documents_command(settings, paths, label, ProgressPrinter(), only_if_changed=not sources,
                                strict=strict)
        return
    from bot.service import build_planbot

    try:
        bot = build_planbot(settings, progress=ProgressPrinter())
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

    questions: Iterator[str] = iter([question]) if question is not None else _stdin_lines(as_json)
    first = next(questions, None)  # before loading the model: no question is a usage error, at once
    if first is None:
        raise click.UsageError("no question: give a QUESTION, or send questions on stdin, one per line")
    from bot.assistant import with_contact
    from bot.contacts import ContactBook

    try:
        bot = build_planbot(settings, progress=ProgressPrinter())
        contacts = ContactBook.load(settings.contacts_file, settings.city_contact)
    except PlanBotError as exc:
        raise click.ClickException(str(exc)) from exc
    titles = bot.compose.titles
    for text in itertools.chain([first], questions):
        answer = with_contact(contacts, bot.ask(Question(text, channel="cli")))
        click.echo(json.dumps(_public(answer, titles), ensure_ascii=False) if as_json else render_plain(answer, titles))
        sys.stdout.flush()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="uvicorn worker processes (they share the database, so events are answered once).")
@click.option("--web-only", is_flag=True,
              help="Only verify, store and acknowledge events (answered by `planbot worker` processes); "
                   "also /review, /healthz and /api/ask.")
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int, web_only: bool) -> None:
    """Run the web app: LINE and Slack webhooks, the review page, /api/ask and /healthz."""
    import uvicorn

    from adapters.app import channel_report
    from adapters.proxies import uvicorn_proxy_options

    proxies = uvicorn_proxy_options(settings)  # X-Forwarded-For only from PLANBOT_TRUSTED_PROXIES
    for line in channel_report(settings, "web" if web_only else "all"):
        click.echo(f"planbot serve: {line}", err=True)
    trusted = ", ".join(settings.trusted_proxy_networks)
    click.echo("planbot serve: client address: " + (f"X-Forwarded-For from {trusted} (PLANBOT_TRUSTED_PROXIES)"
                                                    if trusted else "the TCP peer (no PLANBOT_TRUSTED_PROXIES)"),
               err=True)
    if workers == 1:
        from adapters.app import create_app

        app = create_app(settings, role="web" if web_only else "all")
        uvicorn.run(app, host=host, port=port, log_level="info", **proxies)
        return
    # Several processes each build their own Settings from the same environment. uvicorn kills a child
    # that does not answer its ping within the timeout (5 s by default): a child loading the model on a
    # busy machine can take longer, and was killed and restarted over and over.
    factory = "adapters.app:web_app_factory" if web_only else "adapters.app:app_factory"
    uvicorn.run(factory, factory=True, host=host, port=port, workers=workers, log_level="info",
                timeout_worker_healthcheck=WORKER_PING_TIMEOUT_S, **proxies)


@main.command()
@click.option("--concurrency", default=None, type=click.IntRange(1, 64),
              help="Events answered at once (default: PLANBOT_WORKER_CONCURRENCY, 4).")
@click.option("--nice", "niceness", default=10, show_default=True, type=click.IntRange(0, 19),
              help="Lower this process's CPU priority by N, so that acknowledging on the same machine comes first.")
@click.pass_obj
def worker(settings: Settings, concurrency: int | None, niceness: int) -> None:
    """Answer the webhook events that `planbot serve --web-only` stored (no HTTP). Run as many as needed."""
    import asyncio
    import os

    from adapters.worker import run_worker

    if niceness:
        os.nice(niceness)

    logging.getLogger("adapters").setLevel(logging.INFO)
    code = asyncio.run(run_worker(settings, concurrency or settings.worker_concurrency))
    if code:
        raise click.ClickException("the core failed to load (see the log above)")


def _stdin_lines(as_json: bool) -> Iterator[str]:
    if not as_json and sys.stdin.isatty():
        raise click.UsageError("give a QUESTION, or use --json and send questions on stdin, one per line")
    for line in sys.stdin:
        yield line.rstrip("\n")


def _public(answer: Answer, titles: Titles) -> dict[str, object]:
    record = answer.to_public_json()
    record["answer"] = render_plain(answer, titles)
    return record


for _plugin in entry_points(group="planbot.commands"):
    # `planbot eval` lives in evals/, which adapters/ does not import: it registers itself as a plugin.
    main.add_command(_plugin.load(), name=_plugin.name)
main.add_command(reviewer_group)
main.add_command(purge_command)
main.add_command(line_group)

if __name__ == "__main__":
    main()
