"""Staff answers on Slack end to end (real uvicorn, real core, fake Slack Web API): no citizen disclaimer or
switchboard, related questions as buttons that ask in the thread, the 👎 note thanked, the rendered blocks kept."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack.blocks import ACTION_ASK, ACTION_CONTACT, ACTION_FEEDBACK_DOWN, FEEDBACK_VIEW
from tests.fakes.slack_api import TEAM_ID, FakeSlack
from tests.servers.app import LiveApp, wait_until
from tests.test_slack_events import (
    CHANNEL,
    USER,
    block_of,
    click,
    fake,
    feedback_rows,
    live,
    logged,
    mention,
    post_event,
    post_form,
)

__all__ = ["fake", "live"]  # the fixtures, shared with test_slack_events


def _sections(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in block_of(blocks, "section"))


def test_staff_answer_has_no_citizen_block_and_keeps_ids(live: LiveApp, fake: FakeSlack) -> None:
    post_event(live, mention("冬の除雪はどうなる？", "1700001100.000200"), "Ev0STAFF1")
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
    blocks = fake.calls_to("chat.postMessage")[0].params["blocks"]
    row = logged(live)[0]
    contact = live.services.settings.city_contact
    assert contact not in row.answer_text  # the core's text holds no channel prose…
    shown = _sections(blocks)
    assert contact not in shown and "017-734-1111" not in shown and "※" not in shown  # …nor does the staff answer
    assert "基本計画" not in json.dumps(blocks, ensure_ascii=False)  # no citizen scope note
    assert "雪対策" in shown
    context = " ".join(e["text"] for b in block_of(blocks, "context") for e in b["elements"])
    assert "3.2.2" in context
    wait_until(lambda: (live.services.answer_log.get(row.id) or row).rendered is not None)
    stored = live.services.answer_log.get(row.id)
    assert stored is not None and stored.rendered == {"slack": blocks}


def test_related_button_asks_in_the_thread_and_note_is_thanked(live: LiveApp, fake: FakeSlack) -> None:
    post_event(live, mention("冬の除雪はどうなる？", "1700001200.000200"), "Ev0STAFF2")
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
    first = fake.calls_to("chat.postMessage")[0].params
    asks = [e for b in block_of(first["blocks"], "actions") for e in b["elements"]
            if e["action_id"].startswith(ACTION_ASK)]
    assert asks, "the core offers related questions for snow"
    payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": USER}, "api_app_id": "A0PLANBOT",
               "trigger_id": "trigger-ask", "channel": {"id": CHANNEL},
               "container": {"type": "message", "channel_id": CHANNEL},
               "message": {"ts": "1700001200.000900", "thread_ts": "1700001200.000200"},
               "actions": [{**asks[0], "type": "button", "action_ts": "1700001201.000001"}]}
    assert post_form(live, {"payload": json.dumps(payload)}).status_code == 200
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 2, timeout_s=30)
    second = fake.calls_to("chat.postMessage")[1].params
    assert second["thread_ts"] == "1700001200.000200"
    assert asks[0]["value"] in _sections(second["blocks"])  # the question asked is shown with its answer
    assert logged(live)[1].question == asks[0]["value"]

    answer_id = str(logged(live)[0].id)
    assert click(live, ACTION_FEEDBACK_DOWN, answer_id, USER, thread_ts="1700001200.000200").status_code == 200
    wait_until(lambda: len(fake.calls_to("views.open")) == 1)
    metadata = fake.calls_to("views.open")[0].params["view"]["private_metadata"]
    submission = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": USER},
                  "view": {"id": "V1", "type": "modal", "callback_id": FEEDBACK_VIEW, "private_metadata": metadata,
                           "state": {"values": {"note": {"note": {"type": "plain_text_input",
                                                                  "value": "施策が違います"}}}}}}
    assert post_form(live, {"payload": json.dumps(submission)}).status_code == 200
    wait_until(lambda: len(fake.calls_to("chat.postEphemeral")) == 1)
    thanks = fake.calls_to("chat.postEphemeral")[0].params
    assert thanks["user"] == USER and thanks["channel"] == CHANNEL and "確認します" in thanks["text"]
    assert thanks["thread_ts"] == "1700001200.000200"


def test_contact_button_sends_the_contact_ephemerally(live: LiveApp, fake: FakeSlack) -> None:
    assert click(live, ACTION_CONTACT, "3.2.2", USER, thread_ts="1700001300.000200").status_code == 200
    wait_until(lambda: len(fake.calls_to("chat.postEphemeral")) == 1)
    sent = fake.calls_to("chat.postEphemeral")[0].params
    assert sent["user"] == USER and sent["channel"] == CHANNEL and sent["thread_ts"] == "1700001300.000200"
    assert "お問い合わせ先" in sent["text"] and "017-734-1111" in sent["text"]


def test_thumbs_down_takes_the_same_reasons_as_line(live: LiveApp, fake: FakeSlack) -> None:
    post_event(live, mention("空き家が増えて心配", "1700001400.000200"), "Ev0STAFF4")
    wait_until(lambda: len(fake.calls_to("chat.postMessage")) == 1, timeout_s=30)
    answer_id = str(logged(live)[0].id)
    assert click(live, ACTION_FEEDBACK_DOWN, answer_id, USER, thread_ts="1700001400.000200").status_code == 200
    wait_until(lambda: len(fake.calls_to("views.open")) == 1)
    view = fake.calls_to("views.open")[0].params["view"]
    options = view["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["違う施策", "情報が足りない", "分かりにくい", "その他"]
    empty = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": USER},
             "view": {"id": "V2", "type": "modal", "callback_id": FEEDBACK_VIEW,
                      "private_metadata": view["private_metadata"], "state": {"values": {}}}}
    refused = post_form(live, {"payload": json.dumps(empty)})
    assert refused.status_code == 200 and refused.json()["response_action"] == "errors"
    chosen = {"reason": {"reason": {"type": "radio_buttons", "selected_option": {"value": "unclear"}}}}
    submission = {**empty, "view": {**empty["view"], "state": {"values": chosen}}}
    assert post_form(live, {"payload": json.dumps(submission)}).status_code == 200
    wait_until(lambda: bool(feedback_rows(live)) and feedback_rows(live)[0].reason == "unclear")
    row = feedback_rows(live)[0]
    assert (row.value, row.note) == ("down", None)
