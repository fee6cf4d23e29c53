"""Hand-written node titles: the shipped file covers every node of the plan, and each rule rejects a bad row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge import NODE_TITLES_FILE, PLAN_SOURCE
from knowledge.errors import ConfigError
from knowledge.parser import parse_plan
from knowledge.titles import MAX_UNITS, NodeTitles, load_titles, utf16_units

TREE = parse_plan(PLAN_SOURCE)
NODE_IDS = [node.id for node in TREE]
# サンプル（架空の内容）: a well-formed row written for these tests; each bad row below breaks one rule of it.
GOOD = "3.2.2\t雪のテスト\t雪のテストを進める\t雪のテストを進める\tSample snow test\tSnow test\trun a snow test"


def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "node_titles.tsv"
    path.write_text("# サンプル（架空の内容）\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _with(column: int, value: str) -> str:
    cells = GOOD.split("\t")
    cells[column] = value
    return "\t".join(cells)


def test_the_shipped_file_has_a_row_for_every_node_of_the_plan() -> None:
    titles = load_titles(NODE_TITLES_FILE, known_ids=NODE_IDS)
    assert sorted(titles) == sorted(NODE_IDS)
    assert len(titles) == 82  # 3 pillars, 17 policies, 52 measures, 10 sections
    snow = titles["3.2.2"]
    assert (snow.short("ja"), snow.plain("ja")) == ("雪対策", "雪対策を効果的・効率的に進める")
    assert snow.short("en") == snow.short_en and snow.plain("en") == snow.en and snow.does("en") == snow.does_en


def test_shipped_english_columns_are_ascii_and_japanese_columns_show_no_ids() -> None:
    node_id = re.compile(r"\d+\.\d+")
    for row in load_titles(NODE_TITLES_FILE, known_ids=NODE_IDS).values():
        assert all(text.isascii() for text in (row.en, row.short_en, row.does_en)), row.id
        assert not any(node_id.search(text) for text in (row.short_ja, row.plain_ja, row.does_ja)), row.id


def test_shipped_labels_are_distinct_and_verb_phrases_have_no_sentence_ending() -> None:
    titles = list(load_titles(NODE_TITLES_FILE, known_ids=NODE_IDS).values())
    for column in ("short_ja", "short_en", "plain_ja", "en"):
        values = [getattr(row, column) for row in titles]
        assert len(set(values)) == len(values), column  # a quick reply must name one node
    for row in titles:
        assert not row.does_ja.endswith(("。", "ます", "です")), row.id
        assert not row.does_en.endswith(".") and row.does_en[0].islower(), row.id


def test_lengths_are_counted_in_utf16_units() -> None:
    assert utf16_units("雪対策") == 3
    assert utf16_units("😀") == 2
    assert MAX_UNITS == {"short_ja": 12, "plain_ja": 24, "short_en": 20}


@pytest.mark.parametrize(("row", "message"), [
    ("3.2.2\t雪のテスト\t雪のテストを進める", "3 columns"),
    (GOOD + "\textra", "8 columns"),
    (_with(3, ""), "column does_ja is empty"),
    (_with(0, "9.9.9.9"), "unknown node id"),
    (_with(0, "nowhere"), "unknown node id"),
    (_with(1, "とても長い雪のテストのラベル"), "short_ja"),
    (_with(1, "雪😀😀😀😀😀😀"), "short_ja"),  # 7 characters but 13 UTF-16 units
    (_with(2, "あ" * 25), "plain_ja"),
    (_with(5, "A sample label too long"), "short_en"),
    (_with(1, "「雪のテスト"), "unbalanced"),
    (_with(2, "雪のテスト（仮"), "unbalanced"),
    (_with(3, "『雪」のテスト』"), "unbalanced"),
    (_with(6, "run a (snow test"), "unbalanced"),
    (_with(6, "run a snow test)"), "unbalanced"),
    (_with(4, "Sample snow tést"), "not ASCII"),
    (_with(2, "3.2.2の雪のテスト"), "shows a node id"),
])
def test_each_rule_rejects_a_bad_row_naming_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = _write(tmp_path, row)
    with pytest.raises(ConfigError, match=message) as raised:
        load_titles(path)
    assert "node_titles.tsv:2:" in str(raised.value)


def test_a_duplicate_id_is_rejected_on_its_second_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"node_titles\.tsv:3: duplicate id '3\.2\.2'"):
        load_titles(_write(tmp_path, GOOD, GOOD))


def test_with_known_ids_an_id_outside_them_or_a_node_without_a_row_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    with pytest.raises(ConfigError, match=r"unknown node id '3\.2\.2'"):
        load_titles(path, known_ids=["vision"])
    with pytest.raises(ConfigError, match="no row for node ids vision"):
        load_titles(path, known_ids=["3.2.2", "vision"])


def test_a_good_sample_row_loads(tmp_path: Path) -> None:
    titles = load_titles(_write(tmp_path, GOOD, "", "# comment"), known_ids=["3.2.2"])
    assert titles == {"3.2.2": NodeTitles("3.2.2", "雪のテスト", "雪のテストを進める", "雪のテストを進める",
                                          "Sample snow test", "Snow test", "run a snow test")}
    assert titles["3.2.2"].does("ja") == "雪のテストを進める"


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_titles(tmp_path / "absent.tsv")
