"""The heading matcher: number and title together, in the heading styles real 基本計画 documents use."""

from __future__ import annotations

import pytest

from knowledge.documents.attach import section_name
from knowledge.documents.headings import Context, HeadingMatch, HeadingMatcher, HeadingMiss
from knowledge.parser import parse_plan
from knowledge.tree import PlanTree


@pytest.fixture(scope="module")
def tree() -> PlanTree:
    return parse_plan()


@pytest.fixture(scope="module")
def matcher(tree: PlanTree) -> HeadingMatcher:
    return HeadingMatcher(tree)


IN_SNOW_POLICY = Context(pillar="3", policy="3.2")


@pytest.mark.parametrize("heading", [
    "施策② 効果的・効率的な雪対策の推進",
    "施策②効果的・効率的な雪対策の推進",
    "施策 ② 効果的・効率的な雪対策の推進",
    "施策(2) 効果的・効率的な雪対策の推進",
    "3-2-2 効果的・効率的な雪対策の推進",
    "施策3-2-2 効果的・効率的な雪対策の推進",
    "３－２－２　効果的・効率的な雪対策の推進",
    "3.2.2 効果的・効率的な雪対策の推進",
    "3 - 2 - 2 効果的・効率的な雪対策の推進",
    "第3章第2節② 効果的・効率的な雪対策の推進",
    "第３章 第２節 ② 効果的・効率的な雪対策の推進",
    "第三章第二節② 効果的・効率的な雪対策の推進",
    "【施策3-2-2】効果的・効率的な雪対策の推進",
    "■ 施策②　効果的・効率的な雪対策の推進",
    "② 効果的・効率的な雪対策の推進",
    "効果的・効率的な雪対策の推進",
    "効果的･効率的な雪対策の推進",
    "効果的・効率的な 雪対策の 推進",
    "施策3-2-2",
    "施策No.3-2-2 効果的・効率的な雪対策の推進",
])
def test_every_style_of_the_snow_measure_heading_is_placed_on_3_2_2(matcher: HeadingMatcher, heading: str) -> None:
    result = matcher.match(heading, IN_SNOW_POLICY, explicit=True)
    assert isinstance(result, HeadingMatch), result
    assert result.node_id == "3.2.2"
    assert not result.number_note


@pytest.mark.parametrize("heading", ["3-2-2 効果的・効率的な雪対策の推進", "効果的・効率的な雪対策の推進",
                                     "第3章第2節② 効果的・効率的な雪対策の推進"])
def test_headings_that_carry_their_own_numbers_need_no_context(matcher: HeadingMatcher, heading: str) -> None:
    result = matcher.match(heading, Context(), explicit=False)
    assert isinstance(result, HeadingMatch) and result.node_id == "3.2.2"


def test_circled_number_alone_needs_its_policy(matcher: HeadingMatcher) -> None:
    under_other_policy = matcher.match("施策② 効果的・効率的な雪対策の推進", Context("1", "1.1"), explicit=True)
    # 1.1.2 is another measure; the title wins and the report learns the number was not the node's.
    assert isinstance(under_other_policy, HeadingMatch)
    assert under_other_policy.node_id == "3.2.2" and under_other_policy.number_note


@pytest.mark.parametrize(("heading", "expected"), [
    ("効果的かつ効率的な雪対策の推進", "3.2.2"),        # a word added
    ("施策② 効果的、効率的な雪対策の推進", "3.2.2"),    # another dot
    ("施策① 多様なニーズに応じた切れ目の無い子育て支援", "2.1.1"),  # 送り仮名
    ("施策③ 空き家等対策の推進", "3.2.3"),              # 送り仮名
])
def test_slightly_different_titles_match_and_are_flagged(matcher: HeadingMatcher, heading: str, expected: str,
                                                        tree: PlanTree) -> None:
    context = Context(tree[expected].parent_id and tree[tree[expected].parent_id or ""].parent_id,
                      tree[expected].parent_id)
    result = matcher.match(heading, context, explicit=True)
    assert isinstance(result, HeadingMatch) and result.node_id == expected
    assert result.title_differs


def test_the_exact_title_is_not_flagged(matcher: HeadingMatcher) -> None:
    result = matcher.match("施策② 効果的・効率的な雪対策の推進", IN_SNOW_POLICY, explicit=True)
    assert isinstance(result, HeadingMatch) and not result.title_differs


@pytest.mark.parametrize(("heading", "expected"), [
    ("政策2 災害防止・雪対策の充実", "3.2"),
    ("第3章第2節 災害防止・雪対策の充実", "3.2"),
    ("3-2 災害防止・雪対策の充実", "3.2"),
    ("第3章 まちをデザインする", "3"),
    ("柱3 まちをデザインする", "3"),
    ("まちをデザインする", "3"),
    ("政策１ 活力ある地域産業の育成", "1.1"),
    ("政策3-2 災害防止・雪対策の充実", "3.2"),
    ("政策３－２　災害防止・雪対策の充実", "3.2"),
])
def test_policies_and_pillars(matcher: HeadingMatcher, heading: str, expected: str) -> None:
    context = Context(pillar=expected[0])
    result = matcher.match(heading, context, explicit=True)
    assert isinstance(result, HeadingMatch) and result.node_id == expected and not result.number_note


def test_a_number_and_a_title_that_disagree_are_not_placed(matcher: HeadingMatcher) -> None:
    result = matcher.match("施策3-2-2 観光客の受入態勢の強化について", Context(), explicit=True)
    assert isinstance(result, HeadingMiss)
    assert "3.2.2" in result.reason


def test_a_measure_that_does_not_exist_is_a_miss(matcher: HeadingMatcher) -> None:
    result = matcher.match("施策3-2-9 雪国ライフの推進", Context(), explicit=True)
    assert isinstance(result, HeadingMiss) and "3.2.9" in result.reason


@pytest.mark.parametrize("line", [
    "施策2の推進により、除雪の満足度は向上しました。",
    "1.2倍に増加しています",
    "本市は多くの人が暮らす都市としては世界有数の豪雪地であり、除排雪には多くの費用を要しています。",
    "(2) 地域と協働した雪置き場の確保",
])
def test_body_lines_are_not_headings(matcher: HeadingMatcher, line: str) -> None:
    assert matcher.match(line, IN_SNOW_POLICY, explicit=False) is None


@pytest.mark.parametrize(("heading", "section"), [
    ("現状と課題", "現状と課題"), ("【現状と課題】", "現状と課題"), ("(1) 現状と課題", "現状と課題"),
    ("■主な取組", "主な取組"), ("主な取り組み", "主な取組"), ("３　主な取組", "主な取組"),
    ("指標", "指標"), ("成果指標", "指標"), ("指標・目標値", "指標"), ("目指す姿", "目指す姿"),
    ("めざす姿", "目指す姿"),
])
def test_section_headings(heading: str, section: str) -> None:
    assert section_name(heading) == section


@pytest.mark.parametrize("line", ["除雪指標の作成", "主な取組を進めます。", "流雪溝の整備と延伸"])
def test_lines_that_merely_mention_a_section_word_are_not_section_headings(line: str) -> None:
    assert section_name(line) is None
