"""`planbot index --source/--list/--rollback`: 基本計画 documents as versions (see knowledge.documents)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from bot.errors import PlanBotError
from bot.settings import Settings
from knowledge.documents import (
    KnowledgeDocumentError,
    PassageLibrary,
    PlanVersion,
    index_loaded,
    load_documents,
    open_chroma,
    purge_versions,
    rollback,
    sources_unchanged,
    writer_lock,
)
from knowledge.progress import Progress


def _library(settings: Settings) -> PassageLibrary:
    try:
        client = open_chroma(settings.data_dir, settings.chroma_host, settings.chroma_port)
    except KnowledgeDocumentError as exc:
        raise click.ClickException(str(exc)) from exc
    return PassageLibrary(client, settings.collection_name)


def describe(version: PlanVersion | None) -> str:
    """「v0002 基本計画 2026年3月版 (2026-12-02T06:10:00+00:00, 42 passages)」."""
    if version is None:
        return "none: the 体系図 alone (no 基本計画 documents)"
    return f"{version.id} {version.label} ({version.created}, {version.passages} passages)"


def index_documents_command(settings: Settings, paths: Sequence[Path], label: str | None,
                            progress: Progress, only_if_changed: bool = False, strict: bool = False) -> None:
    """Check every file, bring the plan index up to date as today, then store the documents as a new version.

    `only_if_changed` (PLANBOT_PLAN_SOURCES): no new version when the current one has exactly these contents.
    `strict`: a measure with a heading but no readable 指標 row or no 主な取組 item fails the run before anything
    is written (the reports are printed, then one line per such measure).
    """
    from bot.service import build_planbot
    from knowledge import PLAN_SOURCE
    from knowledge.parser import parse_plan

    try:
        tree = parse_plan(settings.plan_source or PLAN_SOURCE)
        loaded = load_documents(paths, tree)  # every file is checked before anything is written
        if strict and (failures := [f for r in loaded.reports for f in r.strict_failures(tree)]):
            for report in loaded.reports:
                for line in report.lines(tree):
                    click.echo(line)
            raise click.ClickException("--strict: nothing written:\n" + "\n".join(failures))
        library = _library(settings)
        if only_if_changed and sources_unchanged(library.current_version(), paths):
            click.echo(f"documents unchanged: current version {describe(library.current_version())}")
            return
        bot = build_planbot(settings, progress=progress, load_sources=False)
        with writer_lock(settings.data_dir):
            result = index_loaded(library, bot.tree, bot.embedder, loaded, label, progress)
    except (PlanBotError, KnowledgeDocumentError) as exc:
        raise click.ClickException(str(exc)) from exc
    for report in result.reports:
        for line in report.lines(bot.tree):
            click.echo(line)
    click.echo(f"current version: {describe(result.version)} from {len(result.version.sources)} file(s)")


def list_command(settings: Settings) -> None:
    """One line per kept version, oldest first; * marks the current one."""
    try:
        state = _library(settings).registry.state()
    except KnowledgeDocumentError as exc:
        raise click.ClickException(str(exc)) from exc
    if not state.versions:
        click.echo("no document versions: answering from the 体系図 alone")
        return
    for version in state.versions:
        mark = "*" if version.id == state.current else " "
        click.echo(f"{mark} {describe(version)}")
        for source in version.sources:
            pages = f", {source.pages} pages" if source.pages else ""
            click.echo(f"      {source.name} ({source.format}{pages}) sha256 {source.sha256}")
    if state.current is None:
        click.echo("current: none (the 体系図 alone)")


def rollback_command(settings: Settings) -> None:
    """Return to the version before the current one."""
    try:
        library = _library(settings)
        with writer_lock(settings.data_dir):
            previous = rollback(library)
    except KnowledgeDocumentError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"current version: {describe(previous)}")


def purge_versions_command(settings: Settings) -> None:
    """`planbot purge`: delete every document version except the current one (rollback cannot go back further)."""
    try:
        library = _library(settings)
        with writer_lock(settings.data_dir):
            removed = purge_versions(library)
    except KnowledgeDocumentError as exc:
        raise click.ClickException(str(exc)) from exc
    kept = library.current_version()
    click.echo(f"purged {len(removed)} old document versions; kept {describe(kept)}")
