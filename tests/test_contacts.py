"""Contacts per node: the data file, the most specific contact, the fallback, and their use in answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.answer_text import render_plain
from bot.assistant import Assistant
from bot.contacts import DEFAULT_CONTACTS_FILE, ContactBook, parse_contacts
from bot.errors import ConfigError
from bot.service import PlanBot
from bot.settings import Settings
from bot.store.answer_log import AnswerLog
from bot.store.approved import ApprovedAnswers
from bot.store.db import open_database
from bot.store.ratelimit import RateLimiter
from bot.types import Question

FALLBACK = "青森市役所（代表 017-734-1111）"
# サンプル（架空の内容）: departments made up for this test only; the shipped file names none.
SAMPLE = [
    "# サンプル（架空の内容）",
    "3\tまちづくりテスト部\t017-000-0003\t",
    "3.2\t雪対策テスト課\t017-000-0032\thttps://example.invalid/snow",
    "",
    "viewpoints\t基本視点テスト係\t\t",
]


def test_the_shipped_file_has_only_the_city_main_contact() -> None:
    contacts = ContactBook.load(None, FALLBACK).contacts
    assert DEFAULT_CONTACTS_FILE.name == "contacts.tsv"
    assert list(contacts) == ["plan"]
    assert contacts["plan"].phone == "017-734-1111"


def test_most_specific_contact_wins_and_unknown_nodes_fall_back() -> None:
    book = ContactBook(parse_contacts(SAMPLE), FALLBACK)
    assert book.for_nodes(["3.2.2"]).department == "雪対策テスト課"  # the policy's, inherited
    assert book.for_nodes(["3.1.1", "3.2.1"]).department == "雪対策テスト課"  # deeper beats more relevant
    assert book.for_nodes(["3.1.1"]).department == "まちづくりテスト部"
    assert book.for_nodes(["1.1.1"]) is book.fallback and book.fallback.department == FALLBACK
    assert book.for_nodes(["viewpoints"]).display == "基本視点テスト係"
    card = book.for_nodes(["3.2"]).card()
    assert "017-000-0032" in card and "https://example.invalid/snow" in card
    assert book.missing(["3.2.2", "1.1", "vision"]) == ["1.1", "vision"]


def test_a_malformed_row_or_a_missing_configured_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="contacts:2"):
        parse_contacts(["# ok", "3.2.2"])
    with pytest.raises(ConfigError, match="not found"):
        ContactBook.load(tmp_path / "nope.tsv", FALLBACK)


def test_answers_name_the_department_from_the_contact_file(planbot: PlanBot, settings: Settings,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "contacts.tsv"
    path.write_text("\n".join(SAMPLE) + "\n", encoding="utf-8")
    local = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'c.sqlite3'}",
                                        "contacts_file": path})
    database = open_database(local)
    try:
        assistant = Assistant(planbot, AnswerLog(database), RateLimiter(database, 100), ApprovedAnswers(database),
                              ContactBook.load(path, local.city_contact))
        snow = assistant.answer(Question("冬の除雪はどうなる？", channel="cli")).answer
        assert snow.citations[0].id == "3.2.2"
        assert snow.contact is not None and snow.contact.display == "雪対策テスト課（電話 017-000-0032）"
        shown = render_plain(snow, planbot.compose.titles)  # the channels name it; the core's text holds no contact
        assert "雪対策テスト課（電話 017-000-0032）" in shown and FALLBACK not in shown
        kids = assistant.answer(Question("子育ての支援はありますか？", channel="cli")).answer
        assert kids.citations and kids.citations[0].id.startswith("2")
        # no contact on file for pillar 2: the city's main number stays
        assert kids.contact is not None and kids.contact.node_id is None and kids.contact.department == FALLBACK
    finally:
        database.dispose()
