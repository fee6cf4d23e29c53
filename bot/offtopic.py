"""Off-topic detection by example: a question much closer to typical non-plan messages (weather, counter
procedures, chit-chat, figures…) than to any plan node is not answered from the plan.

The examples are data (knowledge/off_topic_examples.tsv), embedded once at start-up with the same model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.errors import ConfigError
from knowledge.embeddings import Embedder


class OffTopicDetector:
    """Nearest off-topic example to a question, by cosine similarity of query embeddings."""

    def __init__(self, embedder: Embedder, examples: list[tuple[str, str]]) -> None:
        self.kinds = [kind for kind, _ in examples]
        self._matrix = embedder.embed_queries([text for _, text in examples]).reshape(len(examples), -1)
        self._embedder = embedder

    @classmethod
    def load(cls, embedder: Embedder, path: Path) -> OffTopicDetector:
        """Read `kind<TAB>example` lines (comments with #)."""
        examples: list[tuple[str, str]] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            kind, _, text = line.partition("\t")
            if not text.strip():
                raise ConfigError(f"{path.name}:{number}: expected kind<TAB>example")
            examples.append((kind.strip(), text.strip()))
        return cls(embedder, examples)

    def nearest(self, text: str) -> tuple[str, float]:
        """The kind of the closest example and its similarity (0 when there are no examples)."""
        if not len(self._matrix):
            return "", 0.0
        similarities = self._matrix @ self._embedder.embed_query(text)
        best = int(np.argmax(similarities))
        return self.kinds[best], float(similarities[best])
