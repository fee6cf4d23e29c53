"""The parts of an answer, from the plan and the hand-written titles, with no LLM: the lead (what the plan has
the city do), the points (quoted items), and the plain content text. No contact sentence and no disclaimer:
those are the channels' (adapters/answer_text.py and the LINE / Slack renderers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.intents import Language
from bot.passages import passage_line
from bot.types import Citation, CitedSource, Point
from knowledge.documents import Passage
from knowledge.titles import NodeTitles
from knowledge.tree import PlanTree

Titles = Mapping[str, NodeTitles]
BULLET: dict[Language, str] = {"ja": "・", "en": "- "}
POINT_HEADINGS: dict[str, dict[Language, str]] = {
    "sibling": {"ja": "同じ政策のほかの施策", "en": "Other measures of the same policy"},
    "child": {"ja": "含まれるもの", "en": "It includes"},
    "cited": {"ja": "関わる施策", "en": "Related measures"},
    "term": {"ja": "計画の記載", "en": "Where the plan says it"},
    "item": {"ja": "", "en": ""},
}


def citations_for(tree: PlanTree, node_ids: list[str], scores: dict[str, float] | None = None) -> tuple[Citation, ...]:
    """Citation objects, in the given order, with their 柱 › 政策 › 施策 paths."""
    scores = scores or {}
    return tuple(Citation(n, tree.breadcrumb(n), tree[n].title, scores.get(n, 0.0)) for n in node_ids)


def titles_of(titles: Titles, tree: PlanTree, node_id: str) -> NodeTitles:
    """The node's hand-written titles; for a node the file does not know, its plan title in every column."""
    found = titles.get(node_id)
    if found is not None:
        return found
    title = tree[node_id].title
    return NodeTitles(node_id, title[:12], title[:24], f"「{title}」に取り組む", title, title[:20],
                      f"work on \"{title}\"")


def _ja_clause(does: str) -> str:
    # 「…とする」 reads as a decision already taken; every other phrase takes 「…ことにしています」.
    return f"{does[:-2]}しています" if does.endswith("とする") else f"{does}ことにしています"


#: A second sentence joins the lead only while the lead stays this short (characters); else the second node
#: is named among the points, so that a phone shows the answer at a glance.
MAX_LEAD = {"ja": 80, "en": 140}


def lead_sentences(titles: Titles, tree: PlanTree, node_ids: Sequence[str], language: Language) -> list[str]:
    """What the plan has the city do, one sentence per node (the first two nodes), from the titles' phrases."""
    does = [titles_of(titles, tree, n).does(language) for n in node_ids[:2]]
    if language == "en":
        return [f"Aomori City plans to {d}." if i == 0 else f"It also plans to {d}." for i, d in enumerate(does)]
    return [f"青森市は、{_ja_clause(d)}。" if i == 0 else f"あわせて、{_ja_clause(d)}。" for i, d in enumerate(does)]


def lead_text(titles: Titles, tree: PlanTree, node_ids: Sequence[str], language: Language) -> tuple[str, int]:
    """One or two sentences saying what the plan has the city do (the second only when the two stay short),
    and how many of the nodes they speak of."""
    sentences = lead_sentences(titles, tree, node_ids, language)
    joined = (" " if language == "en" else "").join(sentences)
    if len(sentences) < 2 or len(joined) <= MAX_LEAD[language]:
        return joined, len(sentences)
    return sentences[0], 1


def node_point(titles: Titles, tree: PlanTree, node_id: str, language: Language, relation: str) -> Point:
    """A point naming a node: the plan's own label in Japanese, the hand-translated title in English."""
    text = titles_of(titles, tree, node_id).en if language == "en" else tree[node_id].label
    return Point(text, node_id, None, relation)  # type: ignore[arg-type]


def tree_points(titles: Titles, tree: PlanTree, cited: Sequence[str], language: Language, in_lead: int
                ) -> list[Point]:
    """What the 体系図 adds to the lead: the items a section lists, the members of a cited pillar or policy, the
    cited nodes the lead does not speak of (it speaks of the first `in_lead`), and for one measure the other
    measures of its policy."""
    points: list[Point] = []
    for node_id in cited:
        node = tree[node_id]
        if node.kind == "section" and language == "ja":
            points += [Point(item, node_id, None, "item") for item in node.items]
        elif node.kind in ("pillar", "policy"):
            points += [node_point(titles, tree, c.id, language, "child") for c in tree.children(node_id)]
    points += [node_point(titles, tree, n, language, "cited") for n in cited[in_lead:]]
    measures = [n for n in cited if tree[n].kind == "measure"]
    if len(cited) == 1 and measures:
        parent = tree[measures[0]].parent_id or ""
        points += [node_point(titles, tree, s.id, language, "sibling") for s in tree.children(parent)
                   if s.id not in cited]
    return points


def passage_points(quotes: Sequence[tuple[str, Sequence[Passage]]]) -> list[Point]:
    """Each quoted 基本計画 passage as it stands, with its node and section."""
    return [Point(passage_line(p), node_id, p.section, "passage") for node_id, passages in quotes for p in passages]


def term_points(quotes: Sequence[tuple[str, str, str]]) -> list[Point]:
    """The plan line where each named term stands: (term, node id, line)."""
    return [Point(line, node, None, "term") for _term, node, line in quotes]


def body_text(lead: str, points: Sequence[Point], language: Language, intro: str = "") -> str:
    """The whole content as plain text: the lead, then the points grouped under a heading per kind."""
    blocks = [part for part in (intro, lead) if part]
    groups: dict[tuple[str, str | None], list[Point]] = {}
    for point in points:
        groups.setdefault((point.relation, point.section), []).append(point)
    for (relation, section), members in groups.items():
        heading = section if relation == "passage" and section else POINT_HEADINGS.get(relation, {}).get(language, "")
        lines = [f"{BULLET[language]}{p.text}" for p in members]
        blocks.append("\n".join([f"〔{heading}〕" if relation == "passage" else f"{heading}:", *lines]
                                if heading else lines))
    return "\n\n".join(blocks)


def passage_intro(version: str, language: Language) -> str:
    """The line above quoted passages, naming the 基本計画 version they come from."""
    return (f"The loaded 基本計画 ({version}) says:" if language == "en"
            else f"基本計画（{version}）には、次のとおり書かれています。")


def not_in_plan_lead(language: Language, version: str | None = None) -> str:
    """Budgets, indicators, targets and concrete projects: plainly not in the loaded plan (the version searched,
    when documents are loaded)."""
    if version is not None:
        if language == "en":
            return (f"I searched the loaded 基本計画 ({version}) and this figure is not in it, so I cannot give "
                    "a number.")
        return (f"読み込んでいる基本計画（{version}）を確認しましたが、お尋ねの数字は記載されていません。"
                "そのため、数字をお答えすることはできません。")
    if language == "en":
        return ("Budgets, indicators, targets and concrete projects are set in the basic plan (基本計画), which is "
                "not loaded here, so I cannot give figures.")
    return ("予算・指標・目標値や主な取組は「基本計画」で定めるもので、読み込んでいる計画（体系図）にはないため、"
            "数字や具体的な事業はお答えできません。")


def related_names_text(titles: Titles, tree: PlanTree, related: Sequence[str], language: Language) -> str:
    """「関連する計画上の位置づけは「…」です。」 under a figure refusal."""
    if not related:
        return ""
    if language == "en":
        return f"The related part of the plan is {', '.join(titles_of(titles, tree, n).en for n in related)}."
    return f"関連する計画上の位置づけは{'、'.join(f'「{tree[n].label}」' for n in related)}です。"


def out_of_scope_lead(language: Language, injection: bool = False) -> str:
    """The plan does not cover this (or the message only instructed the bot): said plainly."""
    if language == "en":
        return ("I can only answer questions about Aomori City's comprehensive plan, and I follow no other "
                "instructions." if injection else "The comprehensive plan does not cover this question.")
    return ("このアシスタントは青森市総合計画についての質問にだけお答えします。ほかの指示には従えません。"
            if injection else "ご質問の内容は、青森市総合計画には記載がありません。")


def invalid_input_text(problem: str, language: Language, max_chars: int) -> str:
    """A polite word for empty, wordless or over-long messages."""
    if language == "en":
        if problem == "too_long":
            return f"Your message is too long. Please ask in {max_chars} characters or fewer."
        return "Please send your question about Aomori City's comprehensive plan as text."
    if problem == "too_long":
        return f"メッセージが長すぎます。{max_chars}文字以内でご質問ください。"
    return "青森市総合計画について、知りたいことを文章で送ってください。（例：「冬の除雪はどうなる？」）"


def clarify_lead(language: Language) -> str:
    """The question a clarify answer asks."""
    return "Which of these do you mean?" if language == "en" else "次のどれについてですか？"


def clarify_text(titles: Titles, tree: PlanTree, candidates: list[str], language: Language) -> str:
    """「次のどれについてですか？」 and the numbered candidates, each with its place in the plan."""
    if language == "en":
        lines = "\n".join(f"{n}. {titles_of(titles, tree, c).en}" for n, c in enumerate(candidates, start=1))
        return f"{clarify_lead(language)}\n{lines}\nPlease choose one, or ask again in other words."
    lines = "\n".join(f"{n}. {tree[c].label}（{_where(tree, c)}）" if _where(tree, c) else f"{n}. {tree[c].label}"
                      for n, c in enumerate(candidates, start=1))
    return f"{clarify_lead(language)}\n{lines}\n番号ではなく、知りたい内容をもう一度送っていただいても大丈夫です。"


def nearest_topics_text(titles: Titles, tree: PlanTree, candidates: list[str], language: Language) -> str:
    """The line offered under a refusal so it is never a dead end."""
    if not candidates:
        return ""
    if language == "en":
        return f"Nearest topics in the plan: {', '.join(titles_of(titles, tree, c).en for c in candidates)}."
    return f"計画の中で近い話題：{'、'.join(f'「{tree[c].label}」' for c in candidates)}"


def _where(tree: PlanTree, node_id: str) -> str:
    return " › ".join(n.label for n in tree.ancestors(node_id)[:-1])


def passage_citation(citation: Citation, passages: Sequence[Passage]) -> Citation:
    """A node's citation naming the section and source of the first passage quoted from it."""
    first = passages[0]
    source = CitedSource(first.source.version, first.source.file, first.source.page)
    return Citation(citation.id, citation.path, citation.title, citation.score, first.section, source)
