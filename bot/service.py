"""PlanBot: question → answer, on the plan and nothing else. (Being written by the lead; interface fixed.)"""

from __future__ import annotations

from bot.settings import Settings
from bot.types import Answer, Question
from knowledge.tree import PlanTree


class PlanBot:
    """The core. `ask` is synchronous, thread-safe, CPU-bound (tens of ms) and never raises."""

    tree: PlanTree

    def ask(self, question: Question) -> Answer:
        """Answer one question from the plan."""
        raise NotImplementedError


def build_planbot(settings: Settings) -> PlanBot:
    """Load the tree, the embedder and the index (built on first use)."""
    raise NotImplementedError
