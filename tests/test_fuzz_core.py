"""Property-based: whatever a citizen sends, `ask` returns a valid answer and never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.service import PlanBot
from bot.types import Question
from knowledge.tree import SECTION_IDS

NASTY = st.sampled_from([
    "<script>alert(1)</script>", "'; DROP TABLE answers; --", "\u202e除雪\u202c", "ﾕｷｶｷ", "除\u200d雪",
    "👨‍👩‍👧‍👦", "\x00\x1b[31m", "مرحبا الثلج", "雪" * 3000, "1' OR '1'='1", "{{7*7}}", "${jndi:ldap://x}",
])
TEXT = st.one_of(st.text(max_size=300), NASTY, st.text(alphabet=st.characters(codec="utf-8"), max_size=50))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, context=st.lists(st.text(max_size=40), max_size=2))
def test_any_input_gets_a_valid_answer(planbot: PlanBot, text: str, context: list[str]) -> None:
    answer = planbot.ask(Question(text, channel="api", context=tuple(context)))
    assert answer.kind != "error"
    assert answer.text.strip()
    assert "Traceback" not in answer.text
    valid = set(planbot.tree.nodes) | set(SECTION_IDS)
    assert all(c.id in valid for c in answer.citations)
    if not answer.answerable:
        assert answer.citations == ()
