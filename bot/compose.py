"""Grounded answer text composed from plan nodes, with no LLM. Every sentence is built from the tree."""

from __future__ import annotations

from collections.abc import Sequence

from bot.intents import Language
from bot.passages import passage_line
from bot.types import Answer, Citation, CitedSource
from knowledge.documents import Passage
from knowledge.tree import PlanTree

NOT_LOADED_JA = ("※ 各施策の主な取組や指標・目標値は「基本計画」で定めるもので、"
                 "ここで読み込んでいる計画（体系図）には含まれていません。")
NOT_LOADED_EN = ("Note: concrete projects (主な取組), indicators and target values (指標) are set in the "
                 "基本計画 (basic plan), which is not part of the plan text loaded here.")


def citations_for(tree: PlanTree, node_ids: list[str], scores: dict[str, float] | None = None) -> tuple[Citation, ...]:
    """Citation objects, in the given order, with their 柱 › 政策 › 施策 paths."""
    scores = scores or {}
    return tuple(Citation(n, tree.breadcrumb(n), tree[n].title, scores.get(n, 0.0)) for n in node_ids)


def plan_answer_text(tree: PlanTree, node_ids: list[str], language: Language, contact: str,
                     version: str | None = None) -> str:
    """What the plan says about the question: the cited nodes, their place in the tree, their items.

    `version`: the 基本計画 version loaded (its passages are quoted above this text), None with the 体系図 alone.
    """
    blocks = [_node_block(tree, nid, language) for nid in node_ids]
    en_note = NOT_LOADED_EN if version is None else f"Source of the quotes: the loaded 基本計画 ({version})."
    ja_note = NOT_LOADED_JA if version is None else f"※ 引用は読み込んでいる基本計画（{version}）からです。"
    if language == "en":
        intro = "Here is what Aomori City's comprehensive plan (青森市総合計画) says on this:"
        outro = f"{en_note} For details, please contact {contact}." if _has_tree_node(tree, node_ids) else ""
    else:
        intro = "青森市総合計画では、次のように位置づけられています。"
        outro = f"{ja_note}詳しくは{contact}へお問い合わせください。" if _has_tree_node(tree, node_ids) else ""
    return "\n\n".join(part for part in [intro, *blocks, outro] if part)


def _has_tree_node(tree: PlanTree, node_ids: list[str]) -> bool:
    return any(tree[n].kind != "section" for n in node_ids)


def _node_block(tree: PlanTree, node_id: str, language: Language) -> str:
    node = tree[node_id]
    if node.kind == "section":
        items = "\n".join(f"・{item}" for item in node.items)
        heading = f"【{node.title}】" if language == "ja" else f"「{node.title}」 ({node_id}):"
        return f"{heading}\n{items}"
    chain = tree.ancestors(node_id)
    where = " › ".join(n.label for n in chain[:-1])
    if node.kind == "measure":
        siblings = [s for s in tree.children(node.parent_id or "") if s.id != node_id]
        head = (f"「{node.label}」 (measure {node_id}, under {where})" if language == "en"
                else f"■ {node.label}\n　（{where}）")
        if siblings:
            names = "、".join(f"「{s.label}」" for s in siblings)
            head += (f"\nOther measures of the same policy: {names}" if language == "en"
                     else f"\n同じ政策には、ほかに{names}があります。")
        return head
    children = "\n".join(f"・{c.label}" for c in tree.children(node_id))
    if language == "en":
        return f"「{node.label}」 ({node.kind} {node_id}{', under ' + where if where else ''}) includes:\n{children}"
    return f"■ {node.label}{'（' + where + '）' if where else ''}\n{children}"


def not_in_plan_text(tree: PlanTree, related: list[str], language: Language, contact: str,
                     version: str | None = None) -> str:
    """Budgets, indicators, targets and concrete projects: say plainly they are not in the loaded plan
    (naming the 基本計画 version searched when documents are loaded)."""
    names = "、".join(f"「{tree[n].label}」" for n in related)
    if version is not None:
        return _not_in_version_text(names, language, contact, version)
    if language == "en":
        text = ("The budget, indicators (指標), target values and concrete projects (主な取組) are decided in the "
                "基本計画 (basic plan), and they are not in the plan text I have, so I cannot give any figures.")
        if names:
            text += f" The related part of the plan is {names}."
        return f"{text} Please ask {contact} for the latest figures."
    text = ("予算・指標・目標値や主な取組は「基本計画」で定めるもので、ここで読み込んでいる計画（体系図）には"
            "含まれていません。そのため、数字や具体的な事業をお答えすることはできません。")
    if names:
        text += f"関連する計画上の位置づけは{names}です。"
    return f"{text}最新の情報は{contact}へお問い合わせください。"


def out_of_scope_text(language: Language, contact: str, injection: bool = False) -> str:
    """The plan does not cover this: say so, cite nothing, point to the city."""
    if language == "en":
        lead = ("I can only answer questions about Aomori City's comprehensive plan, and I follow no other "
                "instructions." if injection else "The comprehensive plan does not cover this question.")
        return f"{lead} For this, please contact {contact} or see the city's official website."
    lead = ("このアシスタントは青森市総合計画についての質問にだけお答えします。ほかの指示には従えません。"
            if injection else "ご質問の内容は、青森市総合計画には記載がありません。")
    return f"{lead}お手数ですが、{contact}または市の公式ホームページでご確認ください。"


def invalid_input_text(problem: str, language: Language, max_chars: int) -> str:
    """A polite word for empty, wordless or over-long messages."""
    if language == "en":
        if problem == "too_long":
            return f"Your message is too long. Please ask in {max_chars} characters or fewer."
        return "Please send your question about Aomori City's comprehensive plan as text."
    if problem == "too_long":
        return f"メッセージが長すぎます。{max_chars}文字以内でご質問ください。"
    return "青森市総合計画について、知りたいことを文章で送ってください。（例：「冬の除雪はどうなる？」）"


def render_plain(answer: Answer) -> str:
    """The answer as one plain text: body, then the citation lines (CLI and JSON `answer`)."""
    if not answer.citations:
        return answer.text
    label = "Sources" if answer.text.isascii() or answer.text.startswith(("Here", "The ")) else "出典"
    lines = "\n".join(f"・{c.id} {c.path}" for c in answer.citations)
    return f"{answer.text}\n\n{label}:\n{lines}"


def clarify_text(tree: PlanTree, candidates: list[str], language: Language) -> str:
    """「次のどれについてですか？」 and the numbered candidates, each with its place in the plan."""
    lines = "\n".join(f"{n}. {tree[c].label}（{_where(tree, c)}）" if _where(tree, c) else f"{n}. {tree[c].label}"
                      for n, c in enumerate(candidates, start=1))
    if language == "en":
        return f"Which of these do you mean?\n{lines}\nPlease choose one, or ask again in other words."
    return f"次のどれについてですか？\n{lines}\n番号ではなく、知りたい内容をもう一度送っていただいても大丈夫です。"


def nearest_topics_text(tree: PlanTree, candidates: list[str], language: Language) -> str:
    """The line offered under a refusal so it is never a dead end."""
    names = "、".join(f"「{tree[c].label}」" for c in candidates)
    if not names:
        return ""
    if language == "en":
        return f"Nearest topics in the plan: {names}."
    return f"計画の中で近い話題：{names}"


def term_quote_text(quotes: list[tuple[str, str, str]], tree: PlanTree, language: Language) -> str:
    """Where named plan terms stand, quoting the line: (term, node id, line)."""
    if language == "en":
        return "\n".join(f"“{term}” stands in the plan at {tree[node].label}: 「{line}」"
                         for term, node, line in quotes)
    return "\n".join(f"「{term}」は計画の「{tree[node].label}」に、次のとおり書かれています：「{line}」"
                     for term, node, line in quotes)


def _where(tree: PlanTree, node_id: str) -> str:
    return " › ".join(n.label for n in tree.ancestors(node_id)[:-1])


def _not_in_version_text(names: str, language: Language, contact: str, version: str) -> str:
    if language == "en":
        text = (f"I searched the loaded 基本計画 ({version}) and this figure is not in it, so I cannot give a "
                "number.")
        if names:
            text += f" The related part of the plan is {names}."
        return f"{text} Please ask {contact} for the latest figures."
    text = (f"読み込んでいる基本計画（{version}）を確認しましたが、お尋ねの数字は記載されていません。"
            "そのため、数字をお答えすることはできません。")
    if names:
        text += f"関連する計画上の位置づけは{names}です。"
    return f"{text}最新の情報は{contact}へお問い合わせください。"


def passage_quote_text(tree: PlanTree, quotes: Sequence[tuple[str, Sequence[Passage]]], language: Language,
                       version: str) -> str:
    """The 基本計画's own words for each node: its section heading, then each passage as it stands."""
    blocks = []
    for node_id, passages in quotes:
        sections = list(dict.fromkeys(p.section for p in passages))
        lines = []
        for section in sections:
            lines.append(f"〔{section}〕")
            lines.extend(f"・{passage_line(p)}" for p in passages if p.section == section)
        cite = passages[0].source.cite()
        head = f"■ {tree[node_id].label}（{node_id}）"
        blocks.append("\n".join([head, *lines, f"（出典：{cite}）"]))
    intro = (f"The loaded 基本計画 ({version}) says:" if language == "en"
             else f"基本計画（{version}）には、次のとおり書かれています。")
    return "\n\n".join([intro, *blocks])


def passage_citation(citation: Citation, passages: Sequence[Passage]) -> Citation:
    """A node's citation naming the section and source of the first passage quoted from it."""
    first = passages[0]
    source = CitedSource(first.source.version, first.source.file, first.source.page)
    return Citation(citation.id, citation.path, citation.title, citation.score, first.section, source)
