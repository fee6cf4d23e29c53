"""What a user would build instead: the textbook LangChain RAG pipeline.

Chroma similarity search (k=4) over the same plan nodes with the same embedder, answer = the top document,
citations = the ids of the k documents returned. No synonyms, no BM25, no refusals, no structure.
"""

from __future__ import annotations

import tempfile
import time

from langchain_chroma import Chroma
from langchain_core.documents import Document

from bot.types import Answer, Citation, Question, RetrievedNode
from knowledge.embeddings import Embedder
from knowledge.langchain_embeddings import LangChainEmbeddings
from knowledge.tree import PlanTree


class TextbookPipeline:
    """`Chroma.from_documents(...).similarity_search(question, k=4)`; the answer is the top document."""

    def __init__(self, tree: PlanTree, embedder: Embedder, k: int = 4) -> None:
        self.tree = tree
        self.k = k
        self._dir = tempfile.TemporaryDirectory(prefix="textbook-chroma-")
        documents = [Document(page_content=tree.document_text(n.id), metadata={"node_id": n.id}) for n in tree]
        self.store = Chroma.from_documents(documents, LangChainEmbeddings(embedder),
                                           collection_name="textbook", persist_directory=self._dir.name)

    def ask(self, question: Question) -> Answer:
        """Answer with the top document; cite the k returned."""
        started = time.perf_counter()
        docs = self.store.similarity_search(question.text or " ", k=self.k)
        ids = [str(d.metadata["node_id"]) for d in docs]
        text = docs[0].page_content if docs else ""
        citations = tuple(Citation(i, self.tree.breadcrumb(i), self.tree[i].title) for i in ids)
        return Answer(question.text, text, True, citations, mode="textbook",
                      latency_ms=(time.perf_counter() - started) * 1000,
                      retrieved=tuple(RetrievedNode(i, 1.0 / (rank + 1)) for rank, i in enumerate(ids)))
