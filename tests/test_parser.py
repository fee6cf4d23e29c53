"""The parser on the city's real text, and on damaged copies that must fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import PlanParseError
from knowledge import PLAN_SOURCE
from knowledge.parser import parse_plan
from knowledge.tree import SECTION_IDS


def test_real_source_matches_stated_totals() -> None:
    tree = parse_plan()
    assert tree.stated_totals == {"pillars": 3, "policies": 17, "measures": 52}
    assert len(tree.of_kind("pillar")) == 3
    assert len(tree.of_kind("policy")) == 17
    assert len(tree.of_kind("measure")) == 52
    per_pillar = [(len(p.children), len(tree.measures_under(p.id))) for p in tree.of_kind("pillar")]
    assert per_pillar == [(5, 14), (6, 21), (6, 17)]


def test_ids_and_breadcrumbs() -> None:
    tree = parse_plan()
    expected = "まちをデザインする › 政策2 災害防止・雪対策の充実 › 施策② 効果的・効率的な雪対策の推進"
    assert tree.breadcrumb("3.2.2") == expected
    assert tree["1"].title == "仕事をつくる"
    assert tree["2.6.4"].title == "生活困窮者の自立支援"
    assert tree["3.6.3"].title == "廃棄物の適正処理の確保"
    assert [n.id for n in tree.of_kind("measure")][:3] == ["1.1.1", "1.1.2", "1.1.3"]
    assert all(s in tree for s in SECTION_IDS)


def test_sections_hold_their_items() -> None:
    tree = parse_plan()
    assert tree["vision"].items == ("みんなで未来を育てるまちに",)
    assert len([i for i in tree["viewpoints"].items if i.startswith("(仮)")]) == 4
    assert "短命市 (健康寿命の延伸)" in tree["challenges"].items
    assert len(tree["enablers.2"].items) == 5
    assert tree["enablers.3"].items == ("ファシリタマネジメント", "財政プラン")
    assert any("7月の総会" in item for item in tree["schedule"].items)
    assert "政策17・施策52" in tree["plan"].items


def test_source_is_the_shared_file_verbatim() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "plan" / PLAN_SOURCE.name
    if not shared.exists():
        pytest.skip("shared/plan is not beside this checkout")
    assert shared.read_bytes() == PLAN_SOURCE.read_bytes()


def _damaged(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = PLAN_SOURCE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "damaged.txt"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (" - 施策③ 空家等対策の推進\n", "", "pillar 3 (まちをデザインする): the document states 政策6・施策17, "
                                             "the parser found 政策6・施策16"),
        (
            "政策 1 7・施策 5 2",
            "政策 1 7・施策 5 3",
            "the document states 政策17・施策53, the parser found 政策17・施策52",
        ),
        ("人をまもり・そだてる\n 政策 6\n 施策 21", "人をまもり・そだてる\n 政策 6\n 施策 20", "states 政策6・施策20"),
        ("- 政策 6 脱炭素・循環型社会の実現**", "- 政策 7 脱炭素・循環型社会の実現**", "policy numbers are"),
        ("\nまちをデザインする\n 政策 6", "\n政策 6", "not closed by a pillar label"),
        ("(5) SDGs", "(6) SDGs", "(1)–(5)"),
    ],
)
def test_damaged_copies_fail_loudly(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(PlanParseError) as raised:
        parse_plan(_damaged(tmp_path, old, new))
    assert message in str(raised.value)


def test_missing_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(PlanParseError, match="cannot read"):
        parse_plan(tmp_path / "nope.txt")


def test_spelling_variants_of_pillar_one(tmp_path: Path) -> None:
    # The label after the list may use either spelling; both close pillar 1.
    tree = parse_plan(_damaged(tmp_path, "\nしごとをつくる\n", "\n仕事をつくる\n"))
    assert len(tree.measures_under("1")) == 14
