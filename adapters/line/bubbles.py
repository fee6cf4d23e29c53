"""The core's `Answer` as a LINE reply: one Flex bubble (header: the measure in plain words; body: the lead and at
most 3 points; footer: the sources as 柱 › 政策 › 施策 in words, 👍 / 👎 and the contact), quick replies with short
names, and a plain-text fallback. A citizen never sees an internal id. Pure functions."""

from __future__ import annotations

from adapters.answer_text import (
    SOURCES_LINE,
    Titles,
    answer_language,
    contact_sentence,
    path_in_words,
    phone_of,
    plain_text,
    scope_note,
    short_title,
)
from adapters.line import flex
from adapters.line.postback import HELPFUL, WRONG, ask_data, contact_data, feedback_data
from adapters.line.render import (
    MAX_LABEL_UNITS,
    MAX_QUICK_TEXT_UNITS,
    LineReply,
    QuickButton,
    fit_messages,
    quick_buttons,
    shorten,
)
from bot.errors import APOLOGY_JA
from bot.intents import Language
from bot.types import Answer, Citation, Point

MAX_POINTS = 3
MAX_POINT_CHARS = 70
MAX_SOURCES = 2
MAX_TOPICS = 3
MAX_QUICK = 3
#: Points that name a node are shown by its short name; the others (quotes, items) as they stand.
NODE_POINTS = frozenset({"cited", "sibling", "child"})
BUBBLE_KINDS = frozenset({"plan", "structure", "approved", "clarify", "out_of_scope", "not_in_plan"})
NEAREST = {"ja": "計画の中で近い話題", "en": "Nearest topics in the plan"}
PICK_HINT = {"ja": "番号（1〜{n}）を送っても選べます。", "en": "You can also reply with a number (1–{n})."}
EXAMPLES = {"ja": "たとえば", "en": "For example"}
ABOUT = {"ja": "{}について", "en": "About {}"}


def render_answer(answer: Answer, titles: Titles, answer_id: int | None = None, show_note: bool = False
                  ) -> LineReply:
    """The answer as one LINE reply. `show_note`: the 体系図 scope note is due (at most once a day per user)."""
    language = answer_language(answer)
    fallback = fallback_texts(answer, titles, show_note, language)
    if answer.kind not in BUBBLE_KINDS:
        return LineReply(fallback, quick_buttons(answer.related))
    if answer.kind == "clarify":
        body, header = clarify_body(answer, titles, language), ""
    elif answer.kind in ("out_of_scope", "not_in_plan"):
        body, header = refusal_body(answer, titles, language), ""
    else:
        body, header = answer_body(answer, titles, language, show_note), header_of(answer, titles, language)
    contents = flex.bubble(header, body, footer(answer, titles, answer_id, language))
    alt = shorten(plain_text(answer.lead or answer.text) or APOLOGY_JA, flex.MAX_ALT_TEXT)
    try:
        flex.validated(alt, contents)
    except flex.FlexError:
        return LineReply(fallback, quick_replies(answer, titles, language))
    return LineReply(fallback, quick_replies(answer, titles, language), contents, alt)


def header_of(answer: Answer, titles: Titles, language: Language) -> str:
    """The measure in plain words; an English header names the Japanese title once, in brackets."""
    if not answer.citations:
        return ""
    first = answer.citations[0]
    name = short_title(titles, first.id, language, first.title)
    if language == "en" and first.id in titles:
        return f"{name} ({titles[first.id].short_ja})"
    return name


def point_text(point: Point, titles: Titles, language: Language) -> str:
    """How a point reads on a phone: a node by its plain name, a quote as it stands (cut when long)."""
    if point.relation in NODE_POINTS and point.node_id in titles:
        node = titles[point.node_id]
        return node.short_en if language == "en" else node.plain_ja
    return shorten(plain_text(point.text), MAX_POINT_CHARS)


def shown_points(answer: Answer) -> list[Point]:
    """The points a bubble shows: not the siblings (they are quick replies), at most 3."""
    return [p for p in answer.points if p.relation != "sibling"][:MAX_POINTS]


def answer_body(answer: Answer, titles: Titles, language: Language, show_note: bool) -> list[flex.Component]:
    """The lead, the points (and how many more there are), and the scope note when it is due."""
    body = [flex.text(plain_text(answer.lead or answer.text), "md")]
    points = shown_points(answer)
    body += [flex.point_row(point_text(p, titles, language)) for p in points]
    hidden = len([p for p in answer.points if p.relation != "sibling"]) - len(points)
    if hidden > 0:
        body.append(flex.text(f"ほか{hidden}つ" if language == "ja" else f"and {hidden} more", "xs", flex.MUTED))
    if show_note and (note := scope_note(answer, language, short=True)):
        body.append(flex.text(note, "xs", flex.MUTED))
    return body


def topic_button(citation: Citation, titles: Titles, language: Language, number: int | None = None
                 ) -> flex.Component:
    """A tappable row asking about one node, in its plain words (numbered for a clarify)."""
    name = _plain_name(citation, titles, language)
    label = shorten(f"{number}. {name}" if number else name, flex.MAX_BUTTON_LABEL)
    display = shorten(ABOUT[language].format(name), MAX_QUICK_TEXT_UNITS)
    return flex.choice(label, flex.postback(label, ask_data(citation.id, language), display))


def clarify_body(answer: Answer, titles: Titles, language: Language) -> list[flex.Component]:
    """「次のどれについてですか？」, one numbered button per option (≤ 3) and the hint that a number works."""
    options = answer.candidates[:MAX_TOPICS]
    body = [flex.text(plain_text(answer.lead), "md", bold=True)]
    body += [topic_button(c, titles, language, n) for n, c in enumerate(options, start=1)]
    if options:
        body.append(flex.text(PICK_HINT[language].format(n=len(options)), "xs", flex.MUTED))
    return body


def refusal_body(answer: Answer, titles: Titles, language: Language) -> list[flex.Component]:
    """A refusal, a figure not in the plan or a greeting: the lead, then the nearest topics or examples."""
    body = [flex.text(plain_text(answer.lead or answer.text), "md")]
    if answer.candidates:
        body.append(flex.text(NEAREST[language], "xs", flex.MUTED))
        body += [topic_button(c, titles, language) for c in answer.candidates[:MAX_TOPICS]]
    elif answer.related:
        if answer.scope != "greeting":
            body.append(flex.text(EXAMPLES[language], "xs", flex.MUTED))
        # The row shows the whole question; the action's label (read out by screen readers) is its first words.
        body += [flex.choice(q, flex.message(shorten(q, flex.MAX_BUTTON_LABEL), shorten(q, MAX_QUICK_TEXT_UNITS)))
                 for q in answer.related[:MAX_TOPICS]]
    return body


def footer(answer: Answer, titles: Titles, answer_id: int | None, language: Language) -> list[flex.Component]:
    """The sources in words, 👍 / 👎 (when the answer was logged) and the contact."""
    parts: list[flex.Component] = []
    if sources := sources_line(answer, titles, language):
        parts.append(flex.text(sources, "xxs", flex.MUTED))
    if answer_id is not None:
        parts.append(flex.row([
            flex.button(flex.postback(HELPFUL[language], feedback_data(answer_id, "up", language), HELPFUL[language])),
            flex.button(flex.postback(WRONG[language], feedback_data(answer_id, "down", language), WRONG[language]))]))
    if (action := contact_action(answer, language)) is not None:
        parts.append(flex.button(action, "link"))
    return parts


CALL = {"ja": ("📞 市役所に電話", "📞 担当課に電話"), "en": ("📞 Call the city", "📞 Call the office")}
WEB = {"ja": "🌐 市のページを見る", "en": "🌐 City web page"}
CONTACT_CARD = {"ja": "市役所に問い合わせる", "en": "Contact the city"}


def contact_action(answer: Answer, language: Language) -> flex.Component | None:
    """The contact as a `tel:` (or web) action; without either, a postback that replies with the contact."""
    contact = answer.contact
    if contact is None:
        return None
    phone = phone_of(contact)
    if phone:
        return flex.uri(CALL[language][contact.node_id is not None], "tel:" + phone.replace("-", ""))
    if contact.url.startswith("https://"):
        return flex.uri(WEB[language], contact.url)
    topic = next((c.id for c in (*answer.citations, *answer.candidates)), None)
    return flex.postback(CONTACT_CARD[language], contact_data(topic), CONTACT_CARD[language])


def quick_replies(answer: Answer, titles: Titles, language: Language) -> tuple[QuickButton, ...]:
    """Short names to tap next: the other measures of the policy, or the members not shown in the bubble."""
    shown = {p.node_id for p in shown_points(answer)}
    nodes = [p.node_id for p in answer.points if p.relation in NODE_POINTS and p.node_id not in shown]
    buttons = []
    for node_id in list(dict.fromkeys(nodes))[:MAX_QUICK]:
        label = shorten(short_title(titles, node_id, language), MAX_LABEL_UNITS)
        buttons.append(QuickButton(label, ABOUT[language].format(label), ask_data(node_id, language)))
    return tuple(buttons)


def fallback_texts(answer: Answer, titles: Titles, show_note: bool, language: Language) -> tuple[str, ...]:
    """The same answer as plain text, for when a bubble cannot be sent: no ids, sources in words."""
    lines = [header_of(answer, titles, language), plain_text(answer.lead or answer.text)]
    points = shown_points(answer) if answer.kind != "clarify" else []
    lines += [f"・{point_text(p, titles, language)}" for p in points]
    if answer.kind == "clarify":
        lines += [f"{n}. {_plain_name(c, titles, language)}" for n, c in enumerate(answer.candidates[:3], start=1)]
    elif answer.candidates:
        lines.append(f"{NEAREST[language]}：" + "、".join(_plain_name(c, titles, language)
                                                           for c in answer.candidates[:MAX_TOPICS]))
    elif answer.related and answer.kind == "out_of_scope":
        lines += [f"・{q}" for q in answer.related[:MAX_TOPICS]]
    tail = [scope_note(answer, language, short=True) if show_note else "", contact_sentence(answer, language)]
    if sources := sources_line(answer, titles, language):
        tail.append(f"📖 {sources}")
    text = "\n".join(line for line in lines if line)
    if any(tail):
        text += "\n\n" + "\n".join(t for t in tail if t)
    return fit_messages(text, language) or (APOLOGY_JA,)


def sources_line(answer: Answer, titles: Titles, language: Language) -> str:
    """「出典：柱 › 政策 › 施策」 in words for the first source; a second source by its short name."""
    if not answer.citations:
        return ""
    first, *others = answer.citations[:MAX_SOURCES]
    names = [path_in_words(titles, first, language),
             *(short_title(titles, c.id, language, c.title) for c in others)]
    return SOURCES_LINE[language] + " / ".join(names)


def _plain_name(citation: Citation, titles: Titles, language: Language) -> str:
    """The node in plain words: Japanese plain title, or the English short label (the full one can run long)."""
    node = titles.get(citation.id)
    return (node.short_en if language == "en" else node.plain_ja) if node else citation.title or citation.id
