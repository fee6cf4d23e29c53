"""What a citizen sees on LINE: questions through the real LINE handler (signed webhooks, the real app and core, the
fake LINE API), measured as a citizen would read them.

    .venv/bin/python -m bench.line_citizen [--questions FILE] [--limit N]

Default questions: the citizen-tagged rows of evals/datasets/dev.jsonl (never the test split). Each question comes
from its own user, so every plan answer carries the once-a-day scope note: the worst case for length (`later_*`:
the same answers without it, as a citizen's later questions that day get them). Prints, over
every reply: visible characters (every text in the bubble, button and quick-reply labels) p50/p90/max and the
share over 300; internal ids a citizen could see; sentences repeated across answers; label rule violations;
kana+kanji share in English answers. Then a conversation script: greeting, a number pick, 👎 then a question,
English, a refusal; and a Slack staff rendering.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from adapters.answer_text import SCOPE_NOTE_SHORT
from adapters.app import create_app
from adapters.line import LineChannel
from adapters.line.flex import visible_texts, walk
from adapters.line.postback import Ask, Feedback, parse_postback
from bench.core import percentile
from bot.service import PlanBot, build_planbot
from bot.settings import Settings
from tests.fakes.line_api import FakeLineApi, LineCall
from tests.servers.app import LiveApp, live_app

SECRET = "bench-line-citizen-secret"
TOKEN = "bench-line-citizen-token"
DEV = Path(__file__).resolve().parent.parent / "evals" / "datasets" / "dev.jsonl"
# An internal id: 「3.2.2」「2.1」「enablers.2」 (the English words "vision" or "challenges" are not ids).
ID = re.compile(r"(?<![0-9.\-])\d\.\d(\.\d)?(?![0-9])|\benablers\.\d")
KANA_KANJI = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff]")
LETTERS = re.compile(r"[A-Za-z\u3041-\u3096\u30a1-\u30fa\u4e00-\u9fff]")
SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]")
BRACKETS = {"」": "「", "』": "『", "）": "（", ")": "("}
MAX_QUICK_LABEL, MAX_BUTTON_LABEL = 20, 40


def load_questions(path: Path | None, limit: int | None) -> list[tuple[str, bool]]:
    """(question, is English) pairs: a file of one question per line, or dev's citizen rows."""
    if path is not None:
        if path.name == "test.jsonl":
            raise SystemExit("the test split is score-only: never run questions from it here")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [(line, not KANA_KANJI.search(line)) for line in lines]
    else:
        data = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [(r["question"], "english" in r.get("tags", [])) for r in data if "citizen" in r.get("tags", [])]
    return rows[:limit] if limit else rows


class Chat:
    """A signed webhook client for one running app, waiting on the fake LINE API's replies."""

    def __init__(self, live: LiveApp, fake: FakeLineApi) -> None:
        self.live, self.fake = live, fake

    def send(self, event: dict[str, Any]) -> LineCall:
        """Post one event, return the reply LINE took."""
        before = len(self.fake.of("reply"))
        body = json.dumps({"destination": "Ubench", "events": [event]}, ensure_ascii=False).encode()
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        response = httpx.post(f"{self.live.url}/line/webhook", content=body, timeout=30,
                              headers={"x-line-signature": signature, "content-type": "application/json"})
        response.raise_for_status()
        deadline = time.monotonic() + 60
        while len(self.fake.of("reply")) <= before:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply within 60 s")
            time.sleep(0.02)
        return self.fake.of("reply")[before]

    def text(self, user: str, text: str) -> LineCall:
        """A citizen's text message."""
        return self.send(_event(user, {"type": "message", "message": {"type": "text", "id": "1", "text": text}}))

    def postback(self, user: str, data: str) -> LineCall:
        """A tapped postback button."""
        return self.send(_event(user, {"type": "postback", "postback": {"data": data}}))


def _event(user: str, kind: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "active", "timestamp": int(time.time() * 1000), "webhookEventId": uuid.uuid4().hex.upper(),
            "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex,
            "source": {"type": "user", "userId": user}, **kind}


@contextmanager
def running(planbot: PlanBot) -> Iterator[Chat]:
    """The real app with LINE against the fake API, on a fresh SQLite log."""
    with tempfile.TemporaryDirectory() as tmp, FakeLineApi(TOKEN).running() as fake:
        settings = Settings().model_copy(update={
            "database_url": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "line_channel_secret": SecretStr(SECRET),
            "line_channel_access_token": SecretStr(TOKEN), "line_api_base_url": fake.url,
            "rate_limit_per_minute": 1000})
        with live_app(create_app(settings, planbot=planbot, channels=[LineChannel(settings)])) as live:
            yield Chat(live, fake)


def label_problems(messages: list[dict[str, Any]]) -> list[str]:
    """Labels over LINE's lengths, cut with "…", or with a bracket left open."""
    quick = [i["action"] for m in messages for i in (m.get("quickReply") or {}).get("items", [])]
    buttons = [c["action"] for m in messages for c in walk(m.get("contents"))
               if c.get("type") == "button" and isinstance(c.get("action"), dict)]  # a box's label is not shown
    labelled = [*((str(a.get("label", "")), MAX_BUTTON_LABEL) for a in buttons),
                *((str(a.get("label", "")), MAX_QUICK_LABEL) for a in quick)]
    return [label for label, limit in labelled
            if len(label.encode("utf-16-le")) // 2 > limit or label.endswith("…") or not _balanced(label)]


def _balanced(text: str) -> bool:
    stack: list[str] = []
    for char in text:
        if char in BRACKETS.values():
            stack.append(char)
        elif char in BRACKETS and (not stack or stack.pop() != BRACKETS[char]):
            return False
    return not stack


def measure(chat: Chat, questions: list[tuple[str, bool]]) -> dict[str, Any]:
    """Ask every question (one user each) and measure what came back."""
    lengths: list[float] = []
    later: list[float] = []  # the same answers as a citizen's later questions of the day get them: no scope note
    longest: list[tuple[int, str, str]] = []
    ids: list[str] = []
    labels: list[str] = []
    english: list[float] = []
    sentences = Counter[str]()
    for n, (question, is_english) in enumerate(questions):
        reply = chat.text(f"U{n:032x}", question)
        shown = visible_texts(reply.messages)
        lengths.append(sum(len(s) for s in shown))
        later.append(lengths[-1] - sum(len(s) for s in shown if s in SCOPE_NOTE_SHORT.values()))
        longest.append((int(lengths[-1]), question[:40], " | ".join(shown)[:160]))
        ids += [s for s in shown if ID.search(s)]
        labels += label_problems(reply.messages)
        sentences.update(set(s.strip() for part in shown for s in SENTENCE.findall(part)))
        if is_english:
            joined = "".join(shown)
            english.append(len(KANA_KANJI.findall(joined)) / max(1, len(LETTERS.findall(joined))))
    repeated = [(s, c) for s, c in sentences.most_common(8) if c > 1]
    return {
        "answers": len(lengths), "visible_p50": percentile(lengths, 50), "visible_p90": percentile(lengths, 90),
        "visible_max": int(max(lengths)), "share_over_300": round(sum(v > 300 for v in lengths) / len(lengths), 3),
        "later_p50": percentile(later, 50), "later_p90": percentile(later, 90), "later_max": int(max(later)),
        "later_share_over_300": round(sum(v > 300 for v in later) / len(later), 3),
        "ids_seen": ids[:10], "ids_seen_count": len(ids), "label_violations": labels[:10],
        "label_violations_count": len(labels), "repeated_sentences": repeated,
        "english_answers": len(english),
        "english_kana_kanji_p50": round(percentile(english, 50), 3) if english else None,
        "english_kana_kanji_max": round(max(english), 3) if english else None,
        "english_over_30pct": sum(e > 0.3 for e in english),
        "longest": sorted(longest, reverse=True)[:5],
    }


def conversation(chat: Chat) -> list[tuple[str, bool, str]]:
    """The scripted conversation: (step, passed, what the citizen saw first)."""
    user, steps = "U" + "c" * 32, []

    def seen(call: LineCall) -> str:
        return " | ".join(visible_texts(call.messages))[:140]

    hello = chat.text(user, "こんにちは")
    examples = [a for a in _actions(hello) if a.get("type") == "message"]
    steps.append(("こんにちは → friendly reply, 3 examples", len(examples) == 3, seen(hello)))
    clarify = chat.text(user, "交通")
    options = [p for p in map(_parsed, _actions(clarify)) if isinstance(p, Ask)]
    picked = chat.text(user, "2")
    steps.append(("clarify 「交通」 then 「2」 → option 2 answered", len(options) == 3 and _header(picked) != "",
                  seen(picked)))
    down = next((a["data"] for a in _actions(picked) if isinstance(_parsed(a), Feedback) and "v=down" in a["data"]),
                "")
    why = chat.postback(user, down)
    question = chat.text(user, "子育ての支援は？")
    steps.append(("👎, then 「子育ての支援は？」 → answered", bool(why.messages) and _header(question) == "子育て支援",
                  seen(question)))
    english = chat.text(user, "What will the city do about empty houses?")
    shown = "".join(visible_texts(english.messages))
    share = len(KANA_KANJI.findall(shown)) / max(1, len(LETTERS.findall(shown)))
    steps.append((f"English question → English answer (kana+kanji {share:.0%})", share <= 0.3, seen(english)))
    refusal = chat.text(user, "明日の天気は？")
    steps.append(("refusal → says so, offers examples and the contact",
                  any(a.get("type") == "uri" for a in _actions(refusal)), seen(refusal)))
    return steps


def _actions(call: LineCall) -> list[dict[str, Any]]:
    return call.actions


def _parsed(action: dict[str, Any]) -> Any:
    return parse_postback(action.get("data", "")) if action.get("type") == "postback" else None


def _header(call: LineCall) -> str:
    contents = call.messages[-1].get("contents") or {}
    header = contents.get("header") or {}
    return str((header.get("contents") or [{}])[0].get("text", ""))


def slack_staff(planbot: PlanBot) -> dict[str, Any]:
    """A staff answer as Slack blocks: ids shown, no switchboard, no citizen note, plain-words fallback."""
    from adapters.slack.blocks import answer_blocks, fallback_text
    from adapters.slack.delivery import staff_view
    from bot.assistant import with_contact
    from bot.contacts import ContactBook
    from bot.types import Question

    settings = planbot.settings
    answer = with_contact(ContactBook.load(settings.contacts_file, settings.city_contact),
                          planbot.ask(Question("冬の除雪はどうなる？", channel="slack")))
    view = staff_view(answer, 1)
    shown = json.dumps(answer_blocks(view), ensure_ascii=False)
    return {"ids_shown": "3.2.2" in shown, "switchboard": "017-734-1111" in shown, "scope_note": "基本計画" in shown,
            "fallback": fallback_text(view)}


def main() -> None:
    """Parse arguments, run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=None, help="one question per line (default: dev citizen)")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    questions = load_questions(args.questions, args.limit)
    planbot = build_planbot(Settings())
    with running(planbot) as chat:
        figures = measure(chat, questions)
        steps = conversation(chat)
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    for step, passed, what in steps:
        print(f"{'PASS' if passed else 'FAIL'}  {step}\n      {what}")
    print("slack staff:", json.dumps(slack_staff(planbot), ensure_ascii=False))
    print(f"visible chars p50 {figures['visible_p50']} / p90 {figures['visible_p90']} / max {figures['visible_max']}; "
          f"over 300: {figures['share_over_300']:.1%}; ids seen {figures['ids_seen_count']}; "
          f"label violations {figures['label_violations_count']}; English kana+kanji p50 "
          f"{figures['english_kana_kanji_p50']} max {figures['english_kana_kanji_max']}")


if __name__ == "__main__":
    main()
