"""What kind of message this is, decided before retrieval: unreadable, an injection attempt, a request
for figures the loaded plan does not hold, or a question for the city's counters rather than the plan."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Language = Literal["ja", "en"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LETTER_CATEGORIES = ("L", "N")

INJECTION = re.compile(
    r"(ignore|disregard|forget)\b.{0,40}\b(instruction|rule|prompt|previous|above)s?"
    r"|system\s*prompt|jailbreak|developer\s*mode|you\s+are\s+now\b|act\s+as\b|pretend\s+to\s+be"
    r"|(前|上|これまで|今まで|以前)の(指示|命令|ルール|設定)|指示を(無視|忘れ)|ルールを(無視|忘れ)"
    r"|システム\s*プロンプト|プロンプトを(表示|見せ|教え)|設定を(表示|見せ|教え)|あなたは今から"
    r"|なりきって|として振る舞|制限を解除",
    re.IGNORECASE,
)
# 主な取組・指標・目標値・予算 are decided in the 基本計画, which the loaded text does not contain.
NOT_IN_PLAN = re.compile(
    r"予算|事業費|費用|金額|いくら(かけ|使|つぎ|投|の)|何円|億円|万円|財源"
    r"|指標|目標値|数値目標|KPI|ＫＰＩ|達成率|目標の数字|何[%％]|パーセント|割合の目標"
    r"|主な取組|主な取り組み|具体的な(取組|取り組み|事業|施策の中身|内容)|どんな事業|事業名|実施計画"
    r"|budget|how much (money|will|does|is)|cost|spend|funding|kpi|target value|indicator|metric"
    r"|numerical (goal|target)|specific (project|program)s?|concrete (project|step|action)s?",
    re.IGNORECASE,
)
# Counter business, events, weather and opinions: the plan is not the place for these.
OUTSIDE_PLAN = re.compile(
    r"天気|気温|降水|天気予報|明日.{0,6}(雪|雨)|住民票|印鑑|戸籍|マイナンバーカード|パスポート|転入届|転出届"
    r"|収集日|何曜日|営業時間|開庁時間|開館時間|休館日|駐車場|何時から|何時まで|電話番号"
    r"|おすすめ|オススメ|美味しい|うまい店|ランチ|ラーメン|居酒屋|ホテル|宿"
    r"|市長|議員|知事|選挙|政党|総理|大統領|好き\?|嫌い"
    r"|いつ開催|開催日|日程は\?|何日から|チケット|ねぶた祭.{0,10}(いつ|何日|日程|時間)"
    r"|weather|forecast|temperature|resident card|residence card|my number card|passport|garbage day"
    r"|collection day|opening hours|office hours|parking|restaurant|hotel|recommend|mayor|election"
    r"|when is the .{0,20}festival|tickets?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CleanText:
    """A question after removing control and invisible characters, with what was found wrong."""

    text: str
    problem: Literal["empty", "no_words", "too_long"] | None


def clean_question(raw: str, max_chars: int) -> CleanText:
    """Strip control/invisible characters and judge whether there is a question to answer."""
    text = _CONTROL.sub(" ", raw.replace("\r", "\n").replace("\t", " "))
    text = re.sub(r"[ \u3000]+", " ", text).strip()
    if not text:
        return CleanText("", "empty")
    if len(text) > max_chars:
        return CleanText(text[:max_chars], "too_long")
    if not any(unicodedata.category(ch)[0] in _LETTER_CATEGORIES for ch in text):
        return CleanText(text, "no_words")
    return CleanText(text, None)


def detect_language(text: str) -> Language:
    """Japanese when the text has kana, or Han characters and no Latin letters; English otherwise."""
    if _KANA.search(text) or not text.strip():
        return "ja"
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    if latin == 0 and not _HAN.search(text):
        return "ja"  # emoji, digits, symbols: the city's residents are answered in Japanese
    if _HAN.search(text) and latin < 3:
        return "ja"
    return "en"


def is_injection(text: str) -> bool:
    """Does the message try to change the bot's rules?"""
    return bool(INJECTION.search(unicodedata.normalize("NFKC", text)))


def asks_for_unloaded_detail(text: str) -> bool:
    """Does it ask for budgets, indicators, target values or concrete projects (基本計画 material)?"""
    return bool(NOT_IN_PLAN.search(unicodedata.normalize("NFKC", text)))


def is_outside_plan(text: str) -> bool:
    """Is it counter business, an event date, the weather or an opinion about people?"""
    return bool(OUTSIDE_PLAN.search(unicodedata.normalize("NFKC", text)))
