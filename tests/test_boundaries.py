"""The core knows no platform: bot/ and knowledge/ import nothing from slack_bolt, linebot or fastapi."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("slack_bolt", "slack_sdk", "linebot", "fastapi", "starlette", "adapters")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", ["bot", "knowledge"])
def test_core_imports_no_platform(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    offenders = [f"{f.relative_to(ROOT)}: {name}" for f in files for name in _imports(f)
                 if name.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_only_linebot_v3_is_used() -> None:
    offenders = [f"{f.relative_to(ROOT)}: {name}" for f in sorted((ROOT / "adapters").rglob("*.py"))
                 for name in _imports(f) if name.split(".")[0] == "linebot" and not name.startswith("linebot.v3")]
    assert offenders == []


@pytest.mark.parametrize(("package", "forbidden"), [
    ("knowledge", ("bot", "adapters", "evals")),
    ("adapters", ("evals",)),
    ("evals", ("adapters",)),
])
def test_layers_import_only_downwards(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = [f"{f.relative_to(ROOT)}: {name}" for f in sorted((ROOT / package).rglob("*.py"))
                 for name in _imports(f) if name.split(".")[0] in forbidden]
    assert offenders == []
