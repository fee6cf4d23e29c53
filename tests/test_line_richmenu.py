"""`planbot line richmenu --apply` against the fake LINE API: six areas each sending a question, an image drawn
from the labels (the menu's exact size), set as the default, and a second run replacing the first menu."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from adapters.cli import main
from adapters.line.richmenu import HEIGHT, MENU_NAME, WIDTH, cell_bounds, draw_menu, find_font, load_areas
from bot.errors import ConfigError
from tests.fakes.line_api import FakeLineApi

TOKEN = "line-access-token-for-tests"


@pytest.fixture()
def fake_line() -> Iterator[FakeLineApi]:
    with FakeLineApi(TOKEN).running() as fake:
        yield fake


def _run(fake: FakeLineApi, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_CHANNEL_SECRET": "s", "LINE_API_BASE_URL": fake.url,
           "LINE_DATA_API_BASE_URL": fake.url, "PLANBOT_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["line", "richmenu", *args], env=env)
    return result.exit_code, result.output


def test_the_six_areas_tile_the_menu_and_each_sends_a_question() -> None:
    areas = load_areas()
    labels = ["子育て・教育", "雪・防災", "仕事・産業", "健康・福祉", "計画のあらまし", "使い方"]
    assert [a.label for a in areas] == labels
    assert all(a.question for a in areas)
    covered = sum(w * h for w, h in (cell_bounds(i)[2:] for i in range(6)))
    assert covered == WIDTH * HEIGHT
    assert cell_bounds(5)[0] + cell_bounds(5)[2] == WIDTH and cell_bounds(5)[1] + cell_bounds(5)[3] == HEIGHT


def test_the_image_is_drawn_from_the_labels(tmp_path: Path) -> None:
    areas = load_areas()
    png = draw_menu(areas, find_font())
    image = Image.open(io.BytesIO(png))
    assert image.size == (WIDTH, HEIGHT) and image.format == "PNG"
    assert len(png) < 1024 * 1024
    x, y, w, h = cell_bounds(0)
    centre = image.crop((x + w // 4, y + h // 3, x + 3 * w // 4, y + 2 * h // 3))
    assert (255, 255, 255) in {c for _, c in centre.getcolors(100_000) or []}  # the label's white strokes
    blank = draw_menu([type(a)("", a.question, a.colour) for a in areas], find_font())
    assert blank != png


def test_a_missing_font_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="font not found"):
        find_font(tmp_path / "nope.ttf")


def test_apply_sets_the_default_and_a_second_run_replaces_the_first(fake_line: FakeLineApi, tmp_path: Path) -> None:
    code, output = _run(fake_line, tmp_path, "--apply")
    assert code == 0, output
    menus = fake_line.rich_menus
    assert len(menus.menus) == 1
    first = next(iter(menus.menus))
    assert menus.default == first
    stored = menus.menus[first]
    assert stored.menu["name"] == MENU_NAME and stored.menu["size"] == {"width": WIDTH, "height": HEIGHT}
    assert [a["action"]["text"] for a in stored.menu["areas"]] == [a.question for a in load_areas()]
    assert Image.open(io.BytesIO(stored.image)).size == (WIDTH, HEIGHT)
    upload = [c for c in fake_line.calls if c.path.endswith("/content")]
    assert len(upload) == 1 and upload[0].body["content_type"] == "image/png"

    code, output = _run(fake_line, tmp_path, "--apply")
    assert code == 0, output
    assert len(menus.menus) == 1 and menus.default != first and first not in menus.menus
    assert "replacing 1" in output


def test_dry_run_writes_the_image_and_calls_nothing(fake_line: FakeLineApi, tmp_path: Path) -> None:
    out = tmp_path / "menu.png"
    code, output = _run(fake_line, tmp_path, "--out", str(out))
    assert code == 0, output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fake_line.calls == [] and "--apply" in output


def test_a_refused_upload_stops_before_the_default_changes(fake_line: FakeLineApi, tmp_path: Path) -> None:
    assert _run(fake_line, tmp_path, "--apply")[0] == 0
    first = fake_line.rich_menus.default
    fake_line.fail("richmenu", 500, times=1)  # the list call fails: nothing is created
    code, output = _run(fake_line, tmp_path, "--apply")
    assert code != 0 and "500" in output
    assert fake_line.rich_menus.default == first and len(fake_line.rich_menus.menus) == 1
