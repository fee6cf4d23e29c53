"""Questions about the plan's shape (how many, list them) are answered exactly from the tree."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.intents import Language
from knowledge.parser import pillar_key
from knowledge.tree import PlanTree

COUNT = re.compile(r"なんぼ|いくつ|幾つ|何個|何件|何本|何つ|何こ|いくら|数は|の数|数を|数って|how many|number of|count",
                   re.IGNORECASE)
LIST = re.compile(r"一覧|リスト|全部|すべて|全て|ぜんぶ|並べ|挙げ|list|what are (the|all)|all (the )?"
                  r"(pillars|policies|measures)|教えて|何がある|なにがある|どんな", re.IGNORECASE)
TARGETS: dict[str, re.Pattern[str]] = {
    "pillar": re.compile(r"柱|はしら|pillars?", re.IGNORECASE),
    "policy": re.compile(r"政策|せいさく|polic(y|ies)", re.IGNORECASE),
    "measure": re.compile(r"施策|しさく|measures?", re.IGNORECASE),
}
_NUMERALS = {"1": 1, "2": 2, "3": 3, "一": 1, "二": 2, "三": 3, "first": 1, "second": 2, "third": 3}
PILLAR_REF = re.compile(
    r"柱\s*([123一二三])|([123一二三])\s*(?:つ目|番目)?の柱|第\s*([123一二三])\s*の?柱"
    r"|pillar\s*(?:no\.?|#)?\s*([123])|(first|second|third)\s+pillar", re.IGNORECASE)
# Everyday names of the pillars, next to the word 柱 ("まちのデザインの柱").
_ALIASES = "(デザイン|まも[りる]|守[りる]|そだて|育て|しごと|仕事|design|protect|raise|jobs?|work)"
PILLAR_ALIAS = re.compile(rf"{_ALIASES}[^。？?]{{0,16}}(柱|pillar)|(柱|pillar)[^。？?]{{0,8}}{_ALIASES}", re.IGNORECASE)
_ALIAS_PILLAR = {"デザイン": "3", "まも": "2", "守り": "2", "守る": "2", "そだて": "2", "育て": "2",
                 "しごと": "1", "仕事": "1", "design": "3", "protect": "2", "raise": "2", "job": "1", "jobs": "1",
                 "work": "1"}
PER_PILLAR = re.compile(r"柱ごと|柱別|各柱|それぞれ|柱1[〜~～-]3|per pillar|each pillar|by pillar", re.IGNORECASE)
SUPERLATIVE_MOST = re.compile(r"(一番|いちばん|最も|もっとも)(多|大き)|most|largest|biggest", re.IGNORECASE)
SUPERLATIVE_FEWEST = re.compile(r"(一番|いちばん|最も|もっとも)(少な|小さ)|fewest|least|smallest", re.IGNORECASE)
COMPARE = re.compile(
    r"どっち|どちら|比べ|比較|違う|違い|差は|compare|versus|\bvs\b|\bmore\b.{0,40}\bthan\b|which has more",
    re.IGNORECASE,
)
MEASURES_PER_POLICY = re.compile(r"施策が\s*([1-6一二三四五六])\s*(つ|個)")
_KANJI_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
POLICY_REF = re.compile(r"政策\s*([123])[.\-・の]\s*([1-6])|(?:policy)\s*([123])\.([1-6])", re.IGNORECASE)


@dataclass(frozen=True)
class StructureQuery:
    """A question about counts or lists, and which part of the tree it names (None = the whole plan)."""

    action: Literal["count", "list", "compare", "filter"]
    target: Literal["pillar", "policy", "measure"]
    scope: str | None


def parse_structure_query(text: str, tree: PlanTree, has_topic: bool) -> StructureQuery | None:
    """Recognise "how many policies?", "柱2の施策の数", "list the policies of pillar 3" and the like.

    A topical question that merely mentions 施策 ("雪に関する施策は？") is not structural: `has_topic`.
    """
    normal = unicodedata.normalize("NFKC", text)
    targets = [name for name, pattern in TARGETS.items() if pattern.search(normal)]
    scope = _scope(normal, tree)
    if not targets or (has_topic and scope is None):
        return None
    target = _innermost(targets, scope, tree)
    if "policy" in targets and MEASURES_PER_POLICY.search(normal):
        return StructureQuery("filter", "policy", None)
    if target != "pillar" and "pillar" in targets and (
            SUPERLATIVE_MOST.search(normal) or SUPERLATIVE_FEWEST.search(normal) or COMPARE.search(normal)):
        return StructureQuery("compare", target, None)
    if COUNT.search(normal):
        return StructureQuery("count", target, scope)
    if LIST.search(normal) and (scope is not None or target == "pillar" or len(normal) < 25):
        return StructureQuery("list", target, scope)
    return None


def _innermost(targets: list[str], scope: str | None, tree: PlanTree) -> Literal["pillar", "policy", "measure"]:
    order: list[Literal["pillar", "policy", "measure"]] = ["measure", "policy", "pillar"]
    scope_kind = tree[scope].kind if scope else None
    for name in order:
        if name in targets and name != scope_kind:
            return name
    return "measure" if scope_kind == "policy" else "policy"


def _scope(text: str, tree: PlanTree) -> str | None:
    if policy := POLICY_REF.search(text):
        pid = f"{policy.group(1) or policy.group(3)}.{policy.group(2) or policy.group(4)}"
        if pid in tree:
            return pid
    if pillar := PILLAR_REF.search(text):
        raw = next(g for g in pillar.groups() if g)
        return str(_NUMERALS[raw.lower()])
    if alias := PILLAR_ALIAS.search(text):
        word = (alias.group(1) or alias.group(3)).lower()
        return _ALIAS_PILLAR.get(word) or _ALIAS_PILLAR[word[:2]]
    key = pillar_key(text)
    for node in tree.of_kind("pillar"):
        if pillar_key(node.title) in key:
            return node.id
    return None


def answer_structure(query: StructureQuery, tree: PlanTree, language: Language,
                     text: str = "") -> tuple[str, list[str]]:
    """The exact answer text and the node ids it cites."""
    scope_nodes = [tree[query.scope]] if query.scope else tree.of_kind("pillar")
    cite = [query.scope] if query.scope else ["plan"]
    if query.action == "compare":
        return compare_pillars(query, text, tree, language)
    if query.action == "filter":
        return policies_with_measure_count(text, tree, language)
    if query.action == "count":
        if query.scope is None and PER_PILLAR.search(unicodedata.normalize("NFKC", text)):
            cite = [p.id for p in tree.of_kind("pillar")]
        return _count_text(query, tree, language), cite
    lines = []
    for node in scope_nodes:
        members = _members(node.id, query.target, tree)
        header = _name(node.id, tree, language)
        lines.append(header + "\n" + "\n".join(f"・{tree[m].label}" for m in members))
    if query.scope is None and query.target == "pillar":
        lines = [f"・{p.number} {p.title}" for p in tree.of_kind("pillar")]
    intro = _list_intro(query, tree, language)
    return intro + "\n\n" + "\n\n".join(lines), cite


def _members(node_id: str, target: str, tree: PlanTree) -> list[str]:
    if target == "measure":
        return [m.id for m in tree.measures_under(node_id)]
    return list(tree[node_id].children) if tree[node_id].kind == "pillar" else [node_id]


def _count_text(query: StructureQuery, tree: PlanTree, language: Language) -> str:
    if query.scope is None:
        pillars = tree.of_kind("pillar")
        per = [(p, len(p.children), len(tree.measures_under(p.id))) for p in pillars]
        n_pol, n_mea = len(tree.of_kind("policy")), len(tree.of_kind("measure"))
        if language == "en":
            rows = "\n".join(f"- Pillar {p.number} 「{p.title}」: {a} policies, {b} measures" for p, a, b in per)
            return (f"The basic concept (基本構想) has {len(pillars)} pillars, {n_pol} policies (政策) and "
                    f"{n_mea} measures (施策) in total.\n{rows}")
        rows = "\n".join(f"・柱{p.number}「{p.title}」: 政策{a}・施策{b}" for p, a, b in per)
        total = f"基本構想は{len(pillars)}つの柱、{n_pol}の政策、{n_mea}の施策で構成されています"
        return f"{total}（政策{n_pol}・施策{n_mea}）。\n{rows}"
    node = tree[query.scope]
    policies = len(node.children) if node.kind == "pillar" else 1
    measures = len(tree.measures_under(node.id))
    if language == "en":
        return f"{_name(node.id, tree, 'en')} has {policies} policies and {measures} measures." if node.kind == \
            "pillar" else f"{_name(node.id, tree, 'en')} has {measures} measures."
    if node.kind == "pillar":
        name = _name(node.id, tree, "ja")
        return f"{name}には政策{policies}・施策{measures}があります（{policies}の政策、{measures}の施策）。"
    return f"{_name(node.id, tree, 'ja')}には{measures}の施策があります。"


def _list_intro(query: StructureQuery, tree: PlanTree, language: Language) -> str:
    what = {"pillar": ("柱", "pillars"), "policy": ("政策", "policies"), "measure": ("施策", "measures")}[query.target]
    if language == "en":
        where = _name(query.scope, tree, "en") if query.scope else "the plan"
        return f"The {what[1]} of {where} (titles as the plan writes them):"
    where = _name(query.scope, tree, "ja") if query.scope else "基本構想"
    return f"{where}の{what[0]}は次のとおりです。"


def _name(node_id: str, tree: PlanTree, language: Language) -> str:
    node = tree[node_id]
    if node.kind == "pillar":
        return f"Pillar {node.number} 「{node.title}」" if language == "en" else f"柱{node.number}「{node.title}」"
    label = tree.breadcrumb(node_id)
    return f"「{label}」"


def compare_pillars(query: StructureQuery, text: str, tree: PlanTree, language: Language) -> tuple[str, list[str]]:
    """"Which pillar has the most measures?", "柱2と柱3、政策数はどっちが多い？" — counts, and the answer."""
    normal = unicodedata.normalize("NFKC", text)
    named = []
    for match in PILLAR_REF.finditer(normal):
        pillar_id = str(_NUMERALS[next(g for g in match.groups() if g).lower()])
        if pillar_id not in named:
            named.append(pillar_id)
    pillars = [tree[p] for p in named] if len(named) >= 2 else tree.of_kind("pillar")
    count = {p.id: len(p.children) if query.target == "policy" else len(tree.measures_under(p.id))
             for p in pillars}
    fewest = bool(SUPERLATIVE_FEWEST.search(normal)) or "少な" in normal
    best = min(count.values()) if fewest else max(count.values())
    winners = [pid for pid, n in count.items() if n == best]
    unit_ja, unit_en = ("政策", "policies") if query.target == "policy" else ("施策", "measures")
    names = [_name(pid, tree, language) for pid in winners]
    rows = "\n".join(f"・{_name(pid, tree, language)}: {unit_ja if language == 'ja' else unit_en} {n}"
                     for pid, n in count.items())
    if language == "en":
        verdict = (f"{' and '.join(names)} {'tie with' if len(winners) > 1 else 'has'} the "
                   f"{'fewest' if fewest else 'most'} {unit_en} ({best}).")
    else:
        verdict = (f"{'と'.join(names)}が{'同数で' if len(winners) > 1 else ''}"
                   f"{unit_ja}の数が{'最も少なく' if fewest else '最も多く'}、{best}です。")
    cited = named if len(named) >= 2 else winners
    return f"{verdict}\n{rows}", cited


def policies_with_measure_count(text: str, tree: PlanTree, language: Language) -> tuple[str, list[str]]:
    """"施策が2つしかない政策は？" — the policies with exactly that many measures."""
    match = MEASURES_PER_POLICY.search(unicodedata.normalize("NFKC", text))
    raw = match.group(1) if match else "0"
    wanted = _KANJI_DIGIT.get(raw) or int(raw)
    policies = [p for p in tree.of_kind("policy") if len(p.children) == wanted]
    lines = "\n".join(f"・{tree.breadcrumb(p.id)}" for p in policies)
    if language == "en":
        head = f"{len(policies)} policies have exactly {wanted} measures:" if policies else \
            f"No policy has exactly {wanted} measures."
    else:
        head = (f"施策が{wanted}つの政策は{len(policies)}つです。" if policies
                else f"施策が{wanted}つの政策はありません。")
    return f"{head}\n{lines}".strip(), [p.id for p in policies]
