"""The gold question sets: schema, ids against the parsed plan, and every coverage rule of evals/README.md."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from knowledge.parser import parse_plan
from knowledge.tree import SECTION_IDS, PlanTree

DATASETS = Path(__file__).resolve().parent.parent / "evals" / "datasets"
SPLITS = {"dev": "d", "test": "t"}
FIELDS = {
    "id": str, "question": str, "gold": list, "acceptable": list, "answerable": bool,
    "must_include": list, "must_not_include": list, "tags": list,
}
STYLE_TAGS = frozenset({
    "citizen", "staff", "colloquial", "typo", "dialect", "kana", "english", "chinese", "korean",
    "vietnamese", "other_language", "multi_topic", "structure", "count", "list", "cross_cutting",
    "comparison", "section", "out_of_scope", "injection", "not_in_plan", "follow_up_free",
    "navigation", "ambiguous", "verbatim",
})
NON_ENGLISH_FOREIGN = ("chinese", "korean", "vietnamese", "other_language")
LANGUAGE_TAGS = ("english", *NON_ENGLISH_FOREIGN)
UNANSWERABLE_TAGS = frozenset({"out_of_scope", "injection", "not_in_plan"})
MAX_SHARED_RUN = 8  # a run this long shared with a node title counts as copying the plan
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
HANGUL = re.compile(r"[\uac00-\ud7af]")
HAN = re.compile(r"[\u4e00-\u9fff]")


@cache
def tree() -> PlanTree:
    return parse_plan()


@cache
def load(split: str) -> tuple[dict[str, Any], ...]:
    lines = (DATASETS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


def all_rows() -> list[dict[str, Any]]:
    return [row for split in SPLITS for row in load(split)]


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def first_golds(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> Counter[str]:
    return Counter(row["gold"][0] for row in rows if row["gold"])


def any_golds(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> Counter[str]:
    return Counter(node_id for row in rows for node_id in set(row["gold"]))


@pytest.mark.parametrize("split", list(SPLITS))
def test_schema_and_ids(split: str) -> None:
    prefix = SPLITS[split]
    for row in load(split):
        assert set(row) - {"expect"} == set(FIELDS), row.get("id")
        assert row.get("expect", "clarify") == "clarify" and (row["answerable"] or "expect" not in row), row["id"]
        for name, kind in FIELDS.items():
            assert isinstance(row[name], kind), (row["id"], name)
        for name in ("gold", "acceptable", "must_include", "must_not_include", "tags"):
            assert all(isinstance(item, str) and item for item in row[name]), (row["id"], name)
        assert re.fullmatch(rf"{prefix}-\d{{3}}", row["id"]), row["id"]
        assert row["question"].strip() == row["question"] and row["question"], row["id"]
        unknown = [i for i in row["gold"] + row["acceptable"] if i not in tree()]
        assert not unknown, (row["id"], unknown)
        assert not set(row["gold"]) & set(row["acceptable"]), row["id"]
        assert len(set(row["gold"])) == len(row["gold"]), row["id"]


def test_ids_and_questions_are_unique() -> None:
    rows = all_rows()
    ids = Counter(row["id"] for row in rows)
    questions = Counter(nfkc(row["question"]).strip().casefold() for row in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [q for q, n in questions.items() if n > 1] == []


def test_answerability_is_consistent() -> None:
    for row in all_rows():
        refusal_tags = UNANSWERABLE_TAGS & set(row["tags"])
        if row["answerable"]:
            assert row["gold"], row["id"]
            # an answerable row may carry an injection it must ignore, never out_of_scope/not_in_plan
            assert refusal_tags <= {"injection"}, row["id"]
        else:
            assert row["gold"] == [] and row["acceptable"] == [] and row["must_include"] == [], row["id"]
            assert refusal_tags, row["id"]
        if "not_in_plan" in row["tags"]:
            assert row["must_not_include"], row["id"]


def test_tags() -> None:
    for row in all_rows():
        tags = set(row["tags"])
        assert ("citizen" in tags) != ("staff" in tags), row["id"]
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", t) for t in tags), row["id"]
        assert tags - STYLE_TAGS, f"{row['id']}: needs a topic tag"
        assert len([t for t in LANGUAGE_TAGS if t in tags]) <= 1, row["id"]


def test_splits_are_balanced() -> None:
    dev, test = len(load("dev")), len(load("test"))
    assert dev + test >= 260
    # Dev is the larger share: it is what thresholds are calibrated on; test stays a fresh, unseen check.
    assert 0.4 <= dev / (dev + test) <= 0.7


def test_every_measure_is_first_gold_three_times_and_in_both_splits() -> None:
    measures = [n.id for n in tree().of_kind("measure")]
    assert len(measures) == 52
    overall = first_golds(all_rows())
    per_split = {split: first_golds(load(split)) for split in SPLITS}
    assert {m: overall[m] for m in measures if overall[m] < 3} == {}
    for split, counts in per_split.items():
        assert [m for m in measures if counts[m] < 1] == [], split


def test_every_section_is_gold_three_times_and_in_both_splits() -> None:
    overall = any_golds(all_rows())
    assert {s: overall[s] for s in SECTION_IDS if overall[s] < 3} == {}
    for split in SPLITS:
        counts = any_golds(load(split))
        assert [s for s in SECTION_IDS if counts[s] < 1] == [], split


@pytest.mark.parametrize("split", list(SPLITS))
def test_unanswerable_share_and_kinds(split: str) -> None:
    rows = load(split)
    refused = [row for row in rows if not row["answerable"]]
    assert len(refused) / len(rows) >= 0.22
    kinds = Counter(tag for row in refused for tag in row["tags"] if tag in UNANSWERABLE_TAGS)
    assert kinds["out_of_scope"] >= 10 and kinds["injection"] >= 4 and kinds["not_in_plan"] >= 10, kinds


@pytest.mark.parametrize("split", list(SPLITS))
def test_structure_and_cross_cutting_questions(split: str) -> None:
    rows = load(split)
    tagged = Counter(tag for row in rows for tag in row["tags"])
    assert tagged["count"] >= 4 and tagged["list"] >= 4 and tagged["comparison"] >= 2, tagged
    assert tagged["cross_cutting"] >= 4 and tagged["multi_topic"] >= 3, tagged
    assert all(len(row["gold"]) >= 2 for row in rows if "multi_topic" in row["tags"])
    assert all(row["must_include"] for row in rows if "count" in row["tags"])


def test_count_questions_state_the_plans_own_numbers() -> None:
    """The exact figures the plan states (政策17・施策52; per pillar 5/14, 6/21, 6/17) are all asked for."""
    plan = tree()
    pillars = plan.of_kind("pillar")
    expected = {"17", "52"} | {str(len(p.children)) for p in pillars}
    expected |= {str(len(plan.measures_under(p.id))) for p in pillars}
    asked = {s for row in all_rows() if "count" in row["tags"] for s in row["must_include"]}
    assert expected <= asked
    assert str(len(plan.of_kind("measure"))) == "52" and str(len(plan.of_kind("policy"))) == "17"


@pytest.mark.parametrize("split", list(SPLITS))
def test_language_mix(split: str) -> None:
    rows = load(split)
    english = [row for row in rows if "english" in row["tags"]]
    assert len(english) / len(rows) >= 0.12
    for row in english:
        assert not JAPANESE.search(row["question"]), row["id"]
        assert re.search(r"[A-Za-z]{3}", row["question"]), row["id"]
    for row in rows:
        if not set(LANGUAGE_TAGS) & set(row["tags"]):
            # a bare id ("1.5") is written in no language at all
            assert JAPANESE.search(row["question"]) or (
                "navigation" in row["tags"] and not re.search(r"[A-Za-z]", row["question"])), row["id"]
        if "korean" in row["tags"]:
            assert HANGUL.search(row["question"]), row["id"]
        if "chinese" in row["tags"]:
            assert HAN.search(row["question"]) and not KANA.search(row["question"]), row["id"]


def test_other_languages_overall() -> None:
    rows = all_rows()
    others = [row for row in rows if set(NON_ENGLISH_FOREIGN) & set(row["tags"])]
    assert len(others) >= 6
    assert len({t for row in others for t in row["tags"] if t in NON_ENGLISH_FOREIGN}) >= 3
    japanese = [row for row in rows if not set(LANGUAGE_TAGS) & set(row["tags"])]
    assert len(japanese) / len(rows) >= 0.5


def test_styles_people_actually_use() -> None:
    tagged = Counter(tag for row in all_rows() for tag in row["tags"])
    for style in ("colloquial", "typo", "dialect", "kana", "citizen", "staff"):
        assert tagged[style] >= 5, style


def test_questions_never_copy_a_plan_title() -> None:
    runs: set[str] = set()
    for node in tree():
        title = nfkc(node.title)
        runs |= {title[i:i + MAX_SHARED_RUN] for i in range(len(title) - MAX_SHARED_RUN + 1)}
    copied = [
        (row["id"], run) for row in all_rows() for run in runs if run in nfkc(row["question"])
    ]
    assert copied == []
