"""LangChain's view of an `Embedder`, for LangChain vector stores and chains (the textbook pipeline in bench/).
Kept apart so that answering never imports LangChain unless an LLM is configured."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings as LangChainEmbeddingsBase

from knowledge.embeddings import Embedder


class LangChainEmbeddings(LangChainEmbeddingsBase):
    """LangChain's view of the same `Embedder`, for LangChain vector stores and chains."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._embedder.embed_passages(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self._embedder.embed_query(text)]
