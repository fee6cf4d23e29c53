"""Parse the city's 体系図 text (OCR noise and all) into a `PlanTree`, and check it against its own totals."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from knowledge import PLAN_SOURCE
from knowledge.errors import PlanParseError
from knowledge.tree import CIRCLED, SECTION_IDS, PlanNode, PlanTree

HEADINGS = {"諸課題": "challenges", "基本視点": "viewpoints", "基本構想": "concept",
            "基本計画": "plan", "政策を実現するために": "enablers", "参考資料": "ignore",
            "総合計画の体系図イメージ": "ignore"}
TOTALS_RE = re.compile(r"^政策(\d+)・施策(\d+)$")
POLICY_RE = re.compile(r"^政策\s*(\d+)\s+(\S.*)$")
MEASURE_RE = re.compile(rf"^施策\s*([{CIRCLED}])\s*(\S.*)$")
LABEL_COUNT_RE = re.compile(r"^(政策|施策)\s*(\d+)$")
ENABLER_RE = re.compile(r"^\((\d)\)\s*(\S.*)$")
PILLAR_LINE_RE = re.compile(r"(\d)\s*([^\d]+)")
SCHEDULE_RE = re.compile(r"^(\d+月|↓)")
_SHIELD = {ord(c): 0xE000 + i for i, c in enumerate(CIRCLED)}
_UNSHIELD = {0xE000 + i: ord(c) for i, c in enumerate(CIRCLED)}


def clean_line(raw: str) -> str:
    """Strip bullets, the stray `**` of the OCR and surrounding blanks."""
    # NFKC would turn ① into 1; shield the circled numbers, which number the measures.
    shielded = raw.translate(_SHIELD)
    line = unicodedata.normalize("NFKC", shielded).translate(_UNSHIELD).replace("**", "").strip()
    return re.sub(r"^-\s*", "", line).strip()


def pillar_key(text: str) -> str:
    """A spelling-insensitive key for pillar names: 仕事をつくる and しごとをつくる are one pillar."""
    return re.sub(r"[\s・]", "", text).replace("仕事", "しごと")


@dataclass
class _Policy:
    number: int
    title: str
    measures: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Pillar:
    number: int
    title: str
    policies: list[_Policy] = field(default_factory=list)
    stated: dict[str, int] = field(default_factory=dict)
    closed: bool = False


@dataclass
class _State:
    section: str = "ignore"
    pillars: list[_Pillar] = field(default_factory=list)
    pending: list[_Policy] = field(default_factory=list)
    labelled: _Pillar | None = None
    totals: dict[str, int] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)
    enablers: list[tuple[int, str, list[str]]] = field(default_factory=list)


def parse_plan(path: Path = PLAN_SOURCE) -> PlanTree:
    """Parse the plan file and verify it against the totals the document states. Raises `PlanParseError`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanParseError(f"cannot read the plan source {path}: {exc.strerror}") from exc
    text = raw.decode("utf-8", errors="replace")
    state = _State()
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = clean_line(raw_line)
        if line:
            _consume(state, line, number)
    verify_totals(state)
    return _build_tree(state, path.name, hashlib.sha256(raw).hexdigest())


def _consume(state: _State, line: str, number: int) -> None:
    if line in HEADINGS:
        state.section = HEADINGS[line]
        return
    if line.startswith("将来都市"):
        state.section = "vision"
        return
    compact = re.sub(r"\s+", "", line)
    if TOTALS_RE.match(compact):
        match = TOTALS_RE.match(compact)
        assert match is not None
        state.totals = {"policies": int(match.group(1)), "measures": int(match.group(2))}
        state.section = "tree"
        return
    if _consume_tree_line(state, line, number):
        return
    if SCHEDULE_RE.match(line):
        state.section = "schedule"
    _consume_section_line(state, line)


def _consume_tree_line(state: _State, line: str, number: int) -> bool:
    if policy := POLICY_RE.match(line):
        state.pending.append(_Policy(int(policy.group(1)), policy.group(2).strip()))
        state.section = "tree"
        return True
    if measure := MEASURE_RE.match(line):
        if not state.pending:
            raise PlanParseError(f"line {number}: measure 「{line}」 appears before any policy")
        state.pending[-1].measures.append((CIRCLED.index(measure.group(1)) + 1, measure.group(2).strip()))
        return True
    pillar = next((p for p in state.pillars if pillar_key(p.title) == pillar_key(line)), None)
    if pillar is not None and state.section == "tree":
        if not state.pending:
            raise PlanParseError(f"line {number}: pillar label 「{line}」 closes an empty list of policies")
        pillar.policies, state.pending, pillar.closed = state.pending, [], True
        state.labelled = pillar
        return True
    if (count := LABEL_COUNT_RE.match(line)) and state.labelled is not None:
        key = "policies" if count.group(1) == "政策" else "measures"
        state.labelled.stated[key] = int(count.group(2))
        return True
    return False


def _consume_section_line(state: _State, line: str) -> None:
    section = state.section
    if section == "concept" and not state.pillars:
        state.pillars = [_Pillar(int(n), t.strip()) for n, t in PILLAR_LINE_RE.findall(line)]
    elif section == "enablers":
        if enabler := ENABLER_RE.match(line):
            state.enablers.append((int(enabler.group(1)), enabler.group(2).strip(), []))
        elif state.enablers:
            state.enablers[-1][2].append(line)
    elif section in ("challenges", "vision", "viewpoints", "schedule", "plan"):
        state.sections.setdefault(section, []).append(line)


def verify_totals(state: _State) -> None:
    """Compare what was parsed with the totals the document states; name every difference."""
    problems: list[str] = []
    if len(state.pillars) != 3 or [p.number for p in state.pillars] != [1, 2, 3]:
        problems.append(f"the 基本構想 line should name pillars 1–3, found {[p.title for p in state.pillars]}")
    if state.pending:
        problems.append(f"{len(state.pending)} policies are not closed by a pillar label: "
                        + ", ".join(p.title for p in state.pending))
    for pillar in state.pillars:
        problems += _pillar_problems(pillar)
    policies = sum(len(p.policies) for p in state.pillars)
    measures = sum(len(pol.measures) for p in state.pillars for pol in p.policies)
    if not state.totals:
        problems.append("the stated totals (政策NN・施策NN) were not found")
    elif (policies, measures) != (state.totals["policies"], state.totals["measures"]):
        problems.append(f"the document states 政策{state.totals['policies']}・施策{state.totals['measures']}, "
                        f"the parser found 政策{policies}・施策{measures}")
    if [e[0] for e in state.enablers] != [1, 2, 3, 4, 5]:
        problems.append(f"政策を実現するために should have items (1)–(5), found {[e[0] for e in state.enablers]}")
    for section in ("challenges", "vision", "viewpoints", "schedule", "plan"):
        if not state.sections.get(section):
            problems.append(f"section {section} is empty")
    if problems:
        raise PlanParseError("the plan does not match its own totals: " + "; ".join(problems))


def _pillar_problems(pillar: _Pillar) -> list[str]:
    name = f"pillar {pillar.number} ({pillar.title})"
    if not pillar.closed:
        return [f"{name}: no label 「{pillar.title} 政策N 施策N」 after its list"]
    problems = []
    found = {"policies": len(pillar.policies), "measures": sum(len(p.measures) for p in pillar.policies)}
    if found != pillar.stated:
        stated = f"政策{pillar.stated.get('policies', '?')}・施策{pillar.stated.get('measures', '?')}"
        problems.append(f"{name}: the document states {stated}, "
                        f"the parser found 政策{found['policies']}・施策{found['measures']}")
    numbers = [p.number for p in pillar.policies]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"{name}: policy numbers are {numbers}, expected 1–{len(numbers)}")
    for policy in pillar.policies:
        circled = [m[0] for m in policy.measures]
        if circled != list(range(1, len(circled) + 1)) or not circled:
            problems.append(f"{name} 政策{policy.number}: measure numbers are {circled}")
    return problems


def _build_tree(state: _State, source_name: str, sha: str) -> PlanTree:
    nodes: dict[str, PlanNode] = {}
    for pillar in state.pillars:
        pid = str(pillar.number)
        nodes[pid] = PlanNode(pid, "pillar", pillar.title, None,
                              tuple(f"{pid}.{p.number}" for p in pillar.policies), number=pillar.number)
        for policy in pillar.policies:
            qid = f"{pid}.{policy.number}"
            nodes[qid] = PlanNode(qid, "policy", policy.title, pid,
                                  tuple(f"{qid}.{n}" for n, _ in policy.measures), number=policy.number)
            for n, title in policy.measures:
                nodes[f"{qid}.{n}"] = PlanNode(f"{qid}.{n}", "measure", title, qid, number=n)
    for node in _section_nodes(state):
        nodes[node.id] = node
    stated = dict(state.totals, pillars=len(state.pillars))
    return PlanTree(nodes, source_name, sha, stated)


def _section_nodes(state: _State) -> list[PlanNode]:
    sections = state.sections
    pillar_names = " / ".join(p.title for p in state.pillars)
    totals = state.totals
    plan_items = (f"基本構想: {len(state.pillars)}つの柱 ({pillar_names})",
                  f"政策{totals.get('policies', 0)}・施策{totals.get('measures', 0)}",
                  "基本計画: " + "・".join(sections.get("plan", [])))
    nodes = [
        PlanNode("plan", "section", "基本構想・基本計画", items=plan_items),
        PlanNode("vision", "section", "将来都市像", items=tuple(sections.get("vision", []))),
        PlanNode("viewpoints", "section", "基本視点", items=_viewpoint_items(sections.get("viewpoints", []))),
        PlanNode("challenges", "section", "諸課題", items=_split_listing(" ".join(sections.get("challenges", [])))),
    ]
    for number, title, items in state.enablers:
        nodes.append(PlanNode(f"enablers.{number}", "section", f"政策を実現するために ({number}) {title}",
                              items=tuple(items), number=number))
    nodes.append(PlanNode("schedule", "section", "答申までの日程",
                          items=tuple(s for s in sections.get("schedule", []) if s != "↓")))
    missing = [s for s in SECTION_IDS if s not in {n.id for n in nodes}]
    if missing:
        raise PlanParseError(f"sections missing from the plan: {', '.join(missing)}")
    return nodes


def _split_listing(line: str) -> tuple[str, ...]:
    """Split a space-separated listing, keeping 「(…)」 and 「の趣旨」 with the item before them."""
    items: list[str] = []
    for token in line.split():
        if items and (token.startswith("(") or token == "の趣旨"):
            items[-1] = f"{items[-1]} {token}"
        else:
            items.append(token)
    return tuple(items)


def _viewpoint_items(lines: list[str]) -> tuple[str, ...]:
    items: list[str] = []
    for line in lines:
        if "(仮)" in line:
            items += [f"(仮) {part.strip()}" for part in line.split("(仮)") if part.strip()]
        else:
            items += _split_listing(line)
    return tuple(items)
