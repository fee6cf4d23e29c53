"""Explicit ids are read exactly, in every common form; digits of addresses, phones, dates and prices never."""

from __future__ import annotations

import pytest

from bot.references import find_reference
from bot.service import pillar_names
from knowledge.parser import parse_plan

TREE = parse_plan()
NAMES = pillar_names(TREE)


@pytest.mark.parametrize(("text", "ids"), [
    ("1.4", ("1.4",)),
    ("1-4は？", ("1.4",)),
    ("３．２．２", ("3.2.2",)),
    ("3-2-2って何？", ("3.2.2",)),
    ("施策3-2-2について", ("3.2.2",)),
    ("施策３－２－２", ("3.2.2",)),
    ("政策1-4の施策は？", ("1.4",)),
    ("柱1の政策4は？", ("1.4",)),
    ("柱3の政策2の施策②", ("3.2.2",)),
    ("仕事をつくるの政策4は何？", ("1.4",)),
    ("人をまもり・そだてるの政策6", ("2.6",)),
    ("第3章第2節②", ("3.2.2",)),
    ("measure 3.2.2", ("3.2.2",)),
    ("policy 2.5?", ("2.5",)),
])
def test_every_common_form_names_its_node(text: str, ids: tuple[str, ...]) -> None:
    reference = find_reference(text, TREE, NAMES)
    assert reference.ids == ids and reference.ambiguous == ()


@pytest.mark.parametrize("text", [
    "除雪車が来ない 2-5-1",
    "浜田2-5-1の前の道、除雪されてない",
    "2-5-1 うちの前の除雪がまだ",
    "電話は017-734-1111です",
    "1.5倍に増えた観光客",
    "2024-12-01から始まる？",
    "3.2万円の補助ってある？",
    "今年は1.4mも積もった",
])
def test_numbers_that_belong_to_something_else_are_not_ids(text: str) -> None:
    assert not find_reference(text, TREE, NAMES)


def test_a_policy_number_without_its_pillar_offers_each_pillars_policy() -> None:
    reference = find_reference("政策3の施策は？", TREE, NAMES)
    assert reference.ids == () and reference.ambiguous == ("1.3", "2.3", "3.3")


def test_a_policy_number_only_one_pillar_has_is_offered_alone() -> None:
    # Pillar 1 has five policies; pillars 2 and 3 have a sixth.
    assert find_reference("政策6について", TREE, NAMES).ambiguous == ("2.6", "3.6")


def test_ids_outside_the_plan_are_not_references() -> None:
    assert not find_reference("施策3-9-9", TREE, NAMES)
    assert not find_reference("1.9", TREE, NAMES)


@pytest.mark.parametrize(("text", "ids"), [
    ("pillar 3 / policy 4 - which measures?", ("3.4",)),
    ("柱2・政策5", ("2.5",)),
    ("まちをデザインの政策5、施策は何がある？", ("3.5",)),
    ("まちの柱で、政策5は？", ("3.5",)),
])
def test_a_pillar_named_anywhere_completes_a_policy_number(text: str, ids: tuple[str, ...]) -> None:
    assert find_reference(text, TREE, NAMES).ids == ids
