"""A network-free chat model that answers from the plan nodes in its prompt, for tests and CI evals.

`GroundedFakeChatModel` behaves like a well-behaved LLM: it reads the node ids the prompt gives it and
answers in one fluent sentence citing the first one or two of them, in the language the prompt asks for.
`make_llm_planbot` puts any chat model behind an existing PlanBot's retrieval, so both modes can be run
side by side without building a second index.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from bot.llm import LLMComposer
from bot.service import PlanBot

_NODES = re.compile(r"<plan_nodes>(.*?)</plan_nodes>", re.DOTALL)
_NODE = re.compile(r"^id: (\S+)\n(.+)$", re.MULTILINE)


def _usage(prompt: str, answer: str) -> UsageMetadata:
    """Rough token counts (one token per four characters), so usage reporting can be exercised."""
    given, produced = max(1, len(prompt) // 4), max(1, len(answer) // 4)
    return UsageMetadata(input_tokens=given, output_tokens=produced, total_tokens=given + produced)


class GroundedFakeChatModel(BaseChatModel):
    """Answers from the prompt's plan nodes only, citing the first `max_cited` of them by id."""

    max_cited: int = 2

    @property
    def _llm_type(self) -> str:
        return "grounded-fake"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        prompt = "\n".join(str(m.text) for m in messages)
        answer = self.answer_for(prompt)
        message = AIMessage(content=answer, usage_metadata=_usage(prompt, answer))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def answer_for(self, prompt: str) -> str:
        """The sentence this fake says for a prompt built from bot/prompts/answer.md."""
        block = _NODES.search(prompt)
        nodes = _NODE.findall(block.group(1)) if block else []
        english = "Answer in English" in prompt
        if not nodes:
            return ("The plan nodes I was given do not answer this." if english
                    else "いただいた計画の項目には、この質問への記載がありません。")
        chosen = nodes[: self.max_cited]
        places = [crumb.split(" › ")[-1] for _, crumb in chosen]
        cites = "".join(f"[{node_id}]" for node_id, _ in chosen)
        if english:
            return (f"Aomori City's comprehensive plan addresses this under {' and '.join(places)} {cites}. "
                    "Please ask the city for the details.")
        joined = "」と「".join(places)
        return (f"青森市総合計画では、この点は「{joined}」に位置づけられています{cites}。"
                "詳しくは市にお問い合わせください。")


def make_llm_planbot(base: PlanBot, chat_model: BaseChatModel, name: str = "fake:grounded",
                     timeout_s: float | None = None) -> PlanBot:
    """A PlanBot sharing `base`'s tree, embedder and retriever, answering `plan` questions through `chat_model`."""
    settings = base.settings
    composer = LLMComposer(chat_model, name, base.tree, timeout_s or settings.llm_timeout_s, settings.city_contact)
    return base.with_llm(composer)
