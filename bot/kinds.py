"""What kind of message this is, learned from labelled examples (knowledge/message_kinds.tsv), not coded.

Features: the bundled embedder's query vector beside character n-grams (TF-IDF), so both meaning and
surface form count and no single word decides. Classifier: logistic regression with sigmoid-calibrated
probabilities, trained deterministically and cached under the data dir by the content hash of its inputs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.errors import ConfigError
from knowledge.embeddings import Embedder

log = logging.getLogger(__name__)

MessageKind = Literal["plan", "structure", "figures", "lookup", "chitchat", "injection", "unreadable"]
KINDS: tuple[MessageKind, ...] = ("plan", "structure", "figures", "lookup", "chitchat", "injection", "unreadable")
#: Bump when the features or the model change, so a cached model is retrained.
FEATURES_VERSION = "1"
#: How much the embedding counts beside the n-grams (both are unit-length blocks).
EMBEDDING_WEIGHT = 1.0


@dataclass(frozen=True)
class KindScores:
    """Calibrated probability of each kind; `kind` is the most likely one."""

    probabilities: dict[str, float]

    @property
    def kind(self) -> MessageKind:
        """The most likely kind."""
        return cast(MessageKind, max(self.probabilities, key=lambda k: (self.probabilities[k], k)))

    def of(self, *kinds: str) -> float:
        """The summed probability of some kinds."""
        return sum(self.probabilities.get(k, 0.0) for k in kinds)


def read_examples(path: Path) -> list[tuple[MessageKind, str]]:
    """`kind<TAB>text` lines; `#` comments. An unknown kind is an error naming the line."""
    examples: list[tuple[MessageKind, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, _, text = line.partition("\t")
        if kind not in KINDS or not text.strip():
            raise ConfigError(f"{path.name}:{number}: expected one of {', '.join(KINDS)}<TAB>example")
        examples.append((cast(MessageKind, kind), text.strip()))
    return examples


def _surface(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


class MessageKindClassifier:
    """Predicts a message's kind from its text and its embedding."""

    def __init__(self, vectorizer: TfidfVectorizer, model: CalibratedClassifierCV) -> None:
        self._vectorizer = vectorizer
        self._model = model
        self._classes = [str(c) for c in model.classes_]

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]], vectors: np.ndarray) -> MessageKindClassifier:
        """Fit on (kind, text) pairs and their query embeddings (same order)."""
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=1)
        grams = vectorizer.fit_transform([_surface(text) for _, text in examples])
        features = sparse.hstack([grams, sparse.csr_matrix(vectors * EMBEDDING_WEIGHT)]).tocsr()
        base = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced")
        model = CalibratedClassifierCV(base, method="sigmoid", cv=5)
        model.fit(features, [kind for kind, _ in examples])
        return cls(vectorizer, model)

    def predict(self, text: str, vector: np.ndarray) -> KindScores:
        """The calibrated probability of each kind for one message."""
        grams = self._vectorizer.transform([_surface(text)])
        features = sparse.hstack([grams, sparse.csr_matrix(np.atleast_2d(vector) * EMBEDDING_WEIGHT)]).tocsr()
        row = self._model.predict_proba(features)[0]
        return KindScores({kind: float(p) for kind, p in zip(self._classes, row, strict=True)})


def training_examples(kinds_file: Path, plan_examples: Sequence[str]) -> list[tuple[str, str]]:
    """The labelled file plus each node's example questions as more `plan` messages."""
    return [*read_examples(kinds_file), *(("plan", text) for text in plan_examples)]


def load_classifier(kinds_file: Path, plan_examples: Sequence[str], embedder: Embedder,
                    cache_dir: Path) -> MessageKindClassifier:
    """The cached classifier for exactly these inputs, or a freshly trained (and then cached) one."""
    examples = training_examples(kinds_file, plan_examples)
    key = _cache_key(examples, getattr(embedder, "name", type(embedder).__name__))
    path = cache_dir / f"message-kinds-{key}.joblib"
    if path.exists():
        try:
            return cast(MessageKindClassifier, joblib.load(path))
        except Exception:  # a truncated or foreign file: retrain rather than fail
            log.warning("the cached message-kind model %s is unreadable; retraining", path.name)
    vectors = embedder.embed_queries([text for _, text in examples])
    classifier = MessageKindClassifier.train(examples, vectors)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")  # processes training at once write apart
    joblib.dump(classifier, partial)
    partial.replace(path)  # atomic: another process never loads a half-written model
    return classifier


def _cache_key(examples: Sequence[tuple[str, str]], embedder_name: str) -> str:
    digest = hashlib.sha256()
    for part in (FEATURES_VERSION, sklearn.__version__, embedder_name, str(EMBEDDING_WEIGHT)):
        digest.update(part.encode() + b"\0")
    for kind, text in examples:
        digest.update(f"{kind}\t{text}\n".encode())
    return digest.hexdigest()[:16]
