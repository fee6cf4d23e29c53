"""Which plan node a heading names: by number and title together, in the many ways a 基本計画 writes them.

A measure may be written 施策② (under its 政策), 3-2-2, 施策3-2-2, ３－２－２, 3.2.2, 第3章第2節②, or by its title
alone; in full or half width, with any spacing. Titles are compared loosely (送り仮名, middle dots, brackets), and
a difference is reported, never silently accepted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from knowledge.tree import PlanTree

#: A title this close to the node the number names is the same title (a 送り仮名, a dot, a word).
SAME_TITLE = 0.6
#: A heading with no usable number must be this close to one title, and clearly closer than to any other.
TITLE_ALONE = 0.85
TITLE_MARGIN = 0.05
#: Longer lines are sentences, not headings.
MAX_HEADING_CHARS = 70

_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_DASH = "-‐‑‒–—―−－ｰー─━"
_DECORATION = re.compile(r"[【】\[\]［］〔〕《》〈〉■□◆◇●○◎◯▼▽▲△★☆◼︎◻︎▪▫♦]")
_PUNCT_FOR_KEY = re.compile(r"[\s・･、，,。．.:：;；「」『』（）()〈〉\"'“”‘’～〜~\-_/／]")

_FULL_NUMBER = re.compile(r"^(?:基本施策|施策)?(?:No\.?|番号)?(\d{1,2})[-.](\d{1,2})[-.](\d{1,2})(?![\d.])(.*)$")
_CHAPTER = re.compile(r"^第(\d{1,2})章(?:第(\d{1,2})節)?(.*)$")
_SECTION_NUMBER = re.compile(r"^第(\d{1,2})節(.*)$")
_POLICY_PAIR = re.compile(r"^(政策|基本政策)?(\d{1,2})[-.](\d{1,2})(?![\d.%])(.*)$")
_POLICY = re.compile(r"^(?:基本政策|政策)(?:第)?(\d{1,2})(.*)$")
_MEASURE = re.compile(r"^(?:基本施策|施策)(?:第)?\(?(\d{1,2})\)?(.*)$")
_BARE_NUMBER = re.compile(r"^(?:\((\d{1,2})\)|(\d{1,2})[.、)]?)(\D.*)$")
_PILLAR = re.compile(r"^(?:柱|基本目標|基本方針|まちづくりの柱)(?:第)?(\d)(.*)$")


def normalize(text: str) -> str:
    """NFKC (①→1, ３→3), kanji numbers in 第…章/節, one kind of dash between digits, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"第([〇一二三四五六七八九十]+)(章|節|項|部)",
                  lambda m: f"第{_kanji_number(m.group(1))}{m.group(2)}", text)
    text = re.sub(rf"(?<=\d)\s*[{_DASH}]\s*(?=\d)", "-", text)
    text = re.sub(r"(?<=\d)\s*[.．]\s*(?=\d)", ".", text)
    return re.sub(r"\s+", " ", text).strip()


def _kanji_number(text: str) -> int:
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (_KANJI_DIGITS.get(ones, 0) if ones else 0)
    return int("".join(str(_KANJI_DIGITS[c]) for c in text))


def compact(text: str) -> str:
    """Normalised, without decorations or spaces: what the number patterns look at."""
    return re.sub(r"\s+", "", _DECORATION.sub(" ", normalize(text)))


def title_key(title: str) -> str:
    """A title without spaces, dots and brackets: 「効果的・効率的な雪対策の推進」→「効果的効率的な雪対策の推進」."""
    return _PUNCT_FOR_KEY.sub("", compact(title))


def title_similarity(a: str, b: str) -> float:
    """0–1; 1 when the titles differ only in spacing, width, dots or brackets."""
    key_a, key_b = title_key(a), title_key(b)
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    return SequenceMatcher(None, key_a, key_b, autojunk=False).ratio()


@dataclass(frozen=True, slots=True)
class Context:
    """The pillar and policy the document is in, so 「施策②」 and 「政策2」 can be resolved."""

    pillar: str | None = None
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class HeadingMatch:
    """A heading placed on a node. `title_differs`: the document's title is not the plan's, letter for letter.
    `number_note`: the heading's number named another node (or none) and the title decided."""

    node_id: str
    document_title: str
    title_differs: bool
    number_note: str = ""


@dataclass(frozen=True, slots=True)
class HeadingMiss:
    """A line that is written like a measure or policy heading but names nothing in the plan."""

    reason: str


@dataclass(frozen=True, slots=True)
class _Numbered:
    node_id: str | None
    title: str
    level: str  # pillar / policy / measure / bare
    strong: bool = True  # written with 施策/政策/第…章 or a full 3-part number: a miss is worth reporting


class HeadingMatcher:
    """Matches heading lines against one plan tree (pillars, policies, measures)."""

    def __init__(self, tree: PlanTree) -> None:
        self.tree = tree
        self._titled = [(n, title_key(n.title)) for n in tree if n.kind in ("pillar", "policy", "measure")]

    def match(self, text: str, context: Context, explicit: bool) -> HeadingMatch | HeadingMiss | None:
        """The node `text` names, a miss when it looks like a numbered heading but fits no node, or None.

        `explicit` is True for real heading markup; other lines must name a node by number, or repeat a
        title almost exactly, to count as headings.
        """
        line = compact(text)
        if not line or len(line) > MAX_HEADING_CHARS:
            return None
        numbered = self._numbered(line, context)
        if numbered is not None:
            return self._check_title(numbered, text, explicit)
        return self._by_title_alone(line, text, None, explicit)

    def starts_like_heading(self, text: str, context: Context) -> bool:
        """The line opens with a heading number (施策…, 政策…, 第…章, 3-2-2): its title may wrap onto the next line."""
        line = compact(text)
        numbered = self._numbered(line, context) if line and len(line) <= MAX_HEADING_CHARS else None
        return numbered is not None and numbered.strong

    def _numbered(self, line: str, context: Context) -> _Numbered | None:
        if m := _FULL_NUMBER.match(line):
            return _Numbered(f"{m.group(1)}.{m.group(2)}.{m.group(3)}", m.group(4), "measure")
        if m := _CHAPTER.match(line):
            return self._chapter(m, context)
        if m := _SECTION_NUMBER.match(line):
            return _Numbered(_child(context.pillar, m.group(1)), m.group(2), "policy")
        if m := _PILLAR.match(line):
            return _Numbered(m.group(1), m.group(2), "pillar")
        if m := _POLICY_PAIR.match(line):
            # 「政策3-2 …」 is as strong as 「政策2 …」; a bare 「3-2 …」 could be a figure in the text.
            return _Numbered(f"{m.group(2)}.{m.group(3)}", m.group(4), "policy", strong=bool(m.group(1)))
        if m := _POLICY.match(line):
            return _Numbered(_child(context.pillar, m.group(1)), m.group(2), "policy")
        if m := _MEASURE.match(line):
            return _Numbered(_child(context.policy, m.group(1)), m.group(2), "measure")
        if (m := _BARE_NUMBER.match(line)) and context.policy:
            # 「② 効果的・効率的な雪対策の推進」 under its policy: the title must agree (checked by the caller).
            return _Numbered(_child(context.policy, m.group(1) or m.group(2)), m.group(3), "bare", strong=False)
        return None

    @staticmethod
    def _chapter(m: re.Match[str], context: Context) -> _Numbered:
        pillar, policy, rest = m.group(1), m.group(2), m.group(3)
        if policy is None:
            return _Numbered(pillar, rest, "pillar")
        measure = re.match(r"^(?:施策)?\(?(\d{1,2})\)?(?!\d)(.*)$", rest)
        if measure:
            return _Numbered(f"{pillar}.{policy}.{measure.group(1)}", measure.group(2), "measure")
        return _Numbered(f"{pillar}.{policy}", rest, "policy")

    def _check_title(self, numbered: _Numbered, raw: str, explicit: bool) -> HeadingMatch | HeadingMiss | None:
        title = numbered.title.lstrip(":：.、 ")
        node = self.tree.nodes.get(numbered.node_id or "")
        if numbered.level == "bare":
            # A bare 「(2)」 is usually list numbering; only a title that agrees makes it a heading.
            if node is None or node.kind != "measure" or title_similarity(title, node.title) < TITLE_ALONE:
                return None
            return HeadingMatch(node.id, title, _differs(title, node.title))
        agrees = node is not None and (not title or title_similarity(title, node.title) >= SAME_TITLE)
        if node is not None and node.kind == _kind(numbered.level) and agrees:
            return HeadingMatch(node.id, title or node.title, bool(title) and _differs(title, node.title))
        by_title = self._by_title_alone(compact(title), title, _kind(numbered.level), True) if title else None
        label = numbered.node_id or "?"
        if isinstance(by_title, HeadingMatch):
            return HeadingMatch(by_title.node_id, title, by_title.title_differs,
                                number_note=f"numbered {label} in the document")
        if not explicit and not (numbered.strong and _heading_like(title)):
            return None
        if node is None:
            return HeadingMiss(f"no {numbered.level} {label} in the plan")
        return HeadingMiss(f"the title does not match {label} 「{node.title}」")

    def _by_title_alone(self, line: str, raw: str, kind: str | None, explicit: bool) -> HeadingMatch | None:
        needed = TITLE_ALONE if explicit else max(TITLE_ALONE, 0.9)
        scored = sorted(self._close_titles(title_key(line), kind, needed - TITLE_MARGIN), reverse=True)
        if not scored:
            return None
        best, node_id = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        if best < needed or best - runner_up < TITLE_MARGIN:
            return None
        title = raw.strip()
        return HeadingMatch(node_id, title, _differs(title, self.tree[node_id].title))

    def _close_titles(self, key: str, kind: str | None, floor: float) -> list[tuple[float, str]]:
        """(similarity, node id) of the titles at least `floor` close to `key`. Every line of a PDF comes
        through here, so cheap upper bounds (length, then character counts) rule most titles out first."""
        if not key:
            return []
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(key)
        found: list[tuple[float, str]] = []
        for node, node_key in self._titled:
            if kind is not None and node.kind != kind:
                continue
            matcher.set_seq1(node_key)
            if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
                continue
            score = 1.0 if node_key == key else matcher.ratio()
            if score >= floor:
                found.append((score, node.id))
        return found


def _heading_like(title: str) -> bool:
    """A title, not a sentence that happens to start with 「施策2」: short, without sentence punctuation."""
    return len(title) <= 30 and not re.search(r"[。、，,]", title)


def _child(parent: str | None, number: str) -> str | None:
    return f"{parent}.{int(number)}" if parent else None


def _kind(level: str) -> str:
    return "measure" if level == "bare" else level


def _differs(document_title: str, plan_title: str) -> bool:
    return compact(document_title) != compact(plan_title)
