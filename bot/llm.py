"""Optional LLM answers: a LangChain chain over the retrieved plan nodes, kept only if the guard agrees.

`PLANBOT_LLM` unset means no LLM at all. `openai:MODEL` talks to any OpenAI-compatible endpoint
(OpenAI, Azure OpenAI's /openai/v1 endpoint, vLLM, llama.cpp server); `ollama:MODEL` to an Ollama server.
Whatever the model says, the user gets either a guarded answer with valid citations or the extractive one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from bot.compose import citations_for
from bot.errors import ConfigError, LLMError
from bot.intents import Language
from bot.llm_guard import FallbackReason, cited_ids, judge, lead_of, strip_invalid_citations, valid_ids
from bot.settings import Settings
from bot.types import Answer, Citation
from knowledge.tree import PlanTree

if TYPE_CHECKING:  # LangChain loads only when an LLM is configured (it is most of the import time otherwise)
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import Runnable

log = logging.getLogger(__name__)

PROVIDERS = ("openai", "ollama")
LANGUAGE_NAMES: dict[Language, str] = {"ja": "Japanese (日本語)", "en": "English"}
# Delimiters of the user block; removed from the user's text so it cannot close the block early.
_DELIMITERS = ("<question>", "</question>", "<plan_nodes>", "</plan_nodes>")


@dataclass(frozen=True)
class ModelReply:
    """What the chain's output parser keeps of the model's message."""

    text: str
    token_usage: dict[str, int] = field(default_factory=dict)


@cache
def load_prompt() -> ChatPromptTemplate:
    """The answer prompt from bot/prompts/answer.md: a system part and a user part."""
    raw = resources.files("bot").joinpath("prompts/answer.md").read_text(encoding="utf-8")
    _, _, rest = raw.partition("<!-- system -->")
    system, _, user = rest.partition("<!-- user -->")
    if not system.strip() or not user.strip():
        raise ConfigError("bot/prompts/answer.md needs a '<!-- system -->' and a '<!-- user -->' part")
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("system", system.strip()), ("human", user.strip())])


def parse_llm_setting(value: str) -> tuple[str, str]:
    """`openai:gpt-4o-mini` → ("openai", "gpt-4o-mini"); anything else is a ConfigError."""
    provider, sep, model = value.strip().partition(":")
    if not sep or provider not in PROVIDERS or not model.strip():
        raise ConfigError(
            "PLANBOT_LLM must be 'openai:MODEL' or 'ollama:MODEL' (or unset for extractive answers), "
            f"got {value!r}"
        )
    return provider, model.strip()


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or None when PLANBOT_LLM is unset. Builds clients; sends nothing."""
    if not settings.llm:
        return None
    provider, model = parse_llm_setting(settings.llm)
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        if not key and not settings.openai_base_url:
            raise ConfigError("PLANBOT_LLM=openai:… needs OPENAI_API_KEY "
                              "(or OPENAI_BASE_URL for a local server)")
        # Local OpenAI-compatible servers (vLLM, llama.cpp) accept any key, but the client insists on one.
        return ChatOpenAI(model=model, base_url=settings.openai_base_url,
                          api_key=SecretStr(key or "not-needed"), timeout=settings.llm_timeout_s,
                          max_retries=1)
    from langchain_ollama import ChatOllama

    return ChatOllama(model=model, base_url=settings.ollama_base_url, temperature=0,
                      client_kwargs={"timeout": settings.llm_timeout_s})


def build_llm_composer(settings: Settings, tree: PlanTree) -> LLMComposer | None:
    """The composer for PLANBOT_LLM, or None (extractive answers only)."""
    chat_model = build_chat_model(settings)
    if chat_model is None or settings.llm is None:
        return None
    return LLMComposer(chat_model, settings.llm, tree, settings.llm_timeout_s, settings.city_contact)


def context_node_ids(cited: Sequence[str], retrieved: Sequence[str], limit: int = 5) -> list[str]:
    """The nodes the model sees: the core's chosen nodes first, then the next retrieval hits."""
    return list(dict.fromkeys([*cited, *retrieved]))[:limit]


def clean_user_text(text: str) -> str:
    """The question as data for the prompt: without the prompt's own block delimiters."""
    for delimiter in _DELIMITERS:
        text = text.replace(delimiter, "")
    return text.strip()


def _parse_reply(message: BaseMessage) -> ModelReply:
    from langchain_core.messages import AIMessage

    text = str(message.text)
    usage = message.usage_metadata if isinstance(message, AIMessage) else None
    tokens = {k: int(usage[k]) for k in ("input_tokens", "output_tokens", "total_tokens")} if usage else {}
    return ModelReply(text.strip(), tokens)


class LLMComposer:
    """Rewrites a `plan` answer with an LLM, from the same retrieved nodes, behind the citation guard."""

    def __init__(self, chat_model: BaseChatModel, name: str, tree: PlanTree, timeout_s: float,
                 contact: str, max_context_nodes: int = 5) -> None:
        from langchain_core.runnables import RunnableLambda

        self.name = name
        self.tree = tree
        self.timeout_s = timeout_s
        self.contact = contact
        self.max_context_nodes = max_context_nodes
        self.chain: Runnable[dict[str, Any], ModelReply] = (
            RunnableLambda(self._prompt_inputs) | load_prompt() | chat_model | RunnableLambda(_parse_reply)
        )
        # One worker per concurrent answer; a model that hangs past the timeout only holds its own worker.
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="planbot-llm")

    def context_text(self, node_ids: Sequence[str], quoted: Sequence[tuple[str, str]] = ()) -> str:
        """The plan nodes as the model sees them: id, then breadcrumb and text; then the 基本計画 passages
        the extractive answer quotes (the only place a figure may come from besides the plan text)."""
        nodes = "\n\n".join(f"id: {nid}\n{self.tree.document_text(nid)}" for nid in node_ids)
        if not quoted:
            return nodes
        return nodes + "\n\n基本計画からの引用:\n" + "\n".join(f"・[{nid}] {line}" for nid, line in quoted)

    def _prompt_inputs(self, request: dict[str, Any]) -> dict[str, str]:
        language: Language = request["language"]
        return {"context": self.context_text(request["node_ids"], request.get("quoted", ())),
                "question": clean_user_text(request["question"]),
                "language_name": LANGUAGE_NAMES[language], "contact": self.contact}

    def compose(self, extractive: Answer, language: Language) -> Answer:
        """The guarded LLM answer, else `extractive` with a `fallback_reason`. Never raises."""
        node_ids = context_node_ids([c.id for c in extractive.citations],
                                    [h.id for h in extractive.retrieved], self.max_context_nodes)
        request = {"node_ids": node_ids, "question": extractive.question, "language": language,
                   "quoted": extractive.quoted}
        try:
            reply = self._invoke(request)
        except LLMError as exc:
            reason: FallbackReason = "timeout" if isinstance(exc.__cause__, TimeoutError) else "error"
            log.warning("LLM call failed: %s", exc)
            return self._fallback(extractive, reason, {})
        # A number passes only if it stands in the plan text, in a quoted passage of a node the reply cites,
        # in the question or in the contact.
        cited = set(valid_ids(cited_ids(reply.text), node_ids))
        passages = [(nid, line) for nid, line in extractive.quoted if nid in cited]
        sources = [self.context_text(node_ids, passages), extractive.question, self.contact]
        verdict, valid = judge(reply.text, node_ids, sources, answerable=extractive.answerable)
        if verdict is not None:
            return self._fallback(extractive, verdict, reply.token_usage)
        scores = {h.id: h.score for h in extractive.retrieved}
        text = strip_invalid_citations(reply.text, node_ids)
        return replace(extractive, text=text, lead=lead_of(text), mode="llm",
                       model=self.name, citations=_keep_passage_citations(
                           citations_for(self.tree, valid, scores), extractive.citations),
                       token_usage=reply.token_usage)

    def _invoke(self, request: dict[str, Any]) -> ModelReply:
        """Run the chain with a wall-clock limit. Timeouts and model errors become LLMError."""
        future = self._executor.submit(self.chain.invoke, request)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            future.cancel()
            raise LLMError(f"{self.name} took longer than {self.timeout_s}s") from TimeoutError()
        except Exception as exc:
            if "timeout" in type(exc).__name__.lower():
                raise LLMError(f"{self.name} timed out") from TimeoutError()
            raise LLMError(f"{self.name} failed: {type(exc).__name__}") from exc

    def _fallback(self, extractive: Answer, reason: FallbackReason, usage: dict[str, int]) -> Answer:
        log.warning("LLM answer rejected, extractive answer used (model=%s, reason=%s)", self.name, reason)
        return replace(extractive, mode="extractive", model=self.name, fallback_reason=reason,
                       token_usage=usage)


def _keep_passage_citations(citations: tuple[Citation, ...], extractive: tuple[Citation, ...]
                            ) -> tuple[Citation, ...]:
    """The model's citations, keeping the section and source the extractive answer gave the same node."""
    known = {c.id: c for c in extractive if c.section is not None}
    return tuple(known.get(c.id, c) for c in citations)
