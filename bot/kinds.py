"""What kind of message this is, learned from labelled examples (knowledge/message_kinds.tsv), not coded.

Features: the bundled embedder's query vector beside character n-grams (TF-IDF), so both meaning and
surface form count and no single word decides. Classifier: logistic regression with sigmoid-calibrated
probabilities, trained deterministically and cached (as arrays) by the content hash of its inputs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from bot.errors import ConfigError
from knowledge.embeddings import Embedder
from knowledge.npzfile import write_npz
from knowledge.progress import Progress, counting

log = logging.getLogger(__name__)

MessageKind = Literal["plan", "structure", "figures", "lookup", "chitchat", "injection", "unreadable"]
KINDS: tuple[MessageKind, ...] = ("plan", "structure", "figures", "lookup", "chitchat", "injection", "unreadable")
#: Bump when the features or the model change, so a cached model is retrained.
FEATURES_VERSION = "2"
#: How much the embedding counts beside the n-grams (both are unit-length blocks).
EMBEDDING_WEIGHT = 1.0
NGRAMS = (1, 3)
_WHITESPACE = re.compile(r"\s\s+")  # scikit-learn's own white-space rule for char_wb


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
    """Predicts a message's kind from its text and its embedding.

    Trained with scikit-learn (TF-IDF over character n-grams, logistic regression, sigmoid calibration over
    5 folds), then kept as the plain arrays its prediction needs: answering never imports scikit-learn or
    SciPy (1.7 s and 70 MB of a cold start), and the cache file holds numbers, not pickled code.
    """

    def __init__(self, classes: Sequence[str], vocabulary: dict[str, int], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, calibration: np.ndarray) -> None:
        self.classes = tuple(classes)
        self.vocabulary = vocabulary
        # C-ordered float64 whether fresh from scikit-learn or read back, so both predict bit for bit alike.
        self.idf = np.ascontiguousarray(idf, dtype=np.float64)  # (grams,)
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)  # (folds, classes, grams + embedding dims)
        self.intercept = np.ascontiguousarray(intercept, dtype=np.float64)  # (folds, classes)
        self.calibration = np.ascontiguousarray(calibration, dtype=np.float64)  # (folds, 2, classes): a, b

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]], vectors: np.ndarray) -> MessageKindClassifier:
        """Fit on (kind, text) pairs and their query embeddings (same order)."""
        return cls.from_sklearn(*fit_sklearn(examples, vectors))

    @classmethod
    def from_sklearn(cls, vectorizer: Any, model: Any) -> MessageKindClassifier:
        """The arrays of a fitted TfidfVectorizer and CalibratedClassifierCV (sigmoid, logistic regression)."""
        classes = [str(c) for c in model.classes_]
        folds = model.calibrated_classifiers_
        if any([str(c) for c in f.estimator.classes_] != classes for f in folds):
            raise ConfigError("a calibration fold saw fewer kinds than the whole; add examples of each kind")
        return cls(
            classes, {str(gram): int(i) for gram, i in vectorizer.vocabulary_.items()},
            np.asarray(vectorizer.idf_, dtype=np.float64),
            np.stack([f.estimator.coef_ for f in folds]), np.stack([f.estimator.intercept_ for f in folds]),
            np.stack([[[c.a_ for c in f.calibrators], [c.b_ for c in f.calibrators]] for f in folds]),
        )

    def predict(self, text: str, vector: np.ndarray) -> KindScores:
        """The calibrated probability of each kind for one message (as scikit-learn's predict_proba)."""
        indices, weights = self._grams(text)
        grams = len(self.idf)
        # Only the message's own n-gram columns and the embedding block, summed without BLAS: a dense
        # product over every n-gram wakes OpenBLAS's threads, whose spinning then slows the embedder.
        decision = np.einsum("fcg,g->fc", self.coef[:, :, indices], weights)
        decision += np.einsum("fcd,d->fc", self.coef[:, :, grams:], np.ravel(vector) * EMBEDDING_WEIGHT)
        decision += self.intercept  # (folds, classes)
        a, b = self.calibration[:, 0], self.calibration[:, 1]
        proba = 1.0 / (1.0 + np.exp(a * decision + b))
        total = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, total, out=np.full_like(proba, 1 / len(self.classes)), where=total != 0)
        row = proba.mean(axis=0)
        return KindScores({kind: float(p) for kind, p in zip(self.classes, row, strict=True)})

    def _grams(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """TfidfVectorizer(analyzer="char_wb", sublinear_tf=True, norm="l2") of one text, as (columns, values)."""
        counts: dict[int, int] = {}
        for gram in char_wb_ngrams(_surface(text), *NGRAMS):
            index = self.vocabulary.get(gram)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        indices = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.array([counts[i] for i in indices], dtype=np.float64))) * self.idf[indices]
        norm = np.sqrt(np.sum(values * values))
        return indices, values / norm if norm else values

    def save(self, path: Path) -> None:
        """Write the arrays (numbers only, no pickle), atomically: another process never loads half a model."""
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        write_npz(path, classes=np.array(self.classes), terms=np.array(terms, dtype=str), idf=self.idf,
                  coef=self.coef, intercept=self.intercept, calibration=self.calibration)

    @classmethod
    def load(cls, path: Path) -> MessageKindClassifier:
        """Read what `save` wrote."""
        with np.load(path, allow_pickle=False) as data:
            terms = [str(t) for t in data["terms"]]
            return cls([str(c) for c in data["classes"]], {t: i for i, t in enumerate(terms)}, data["idf"],
                       data["coef"], data["intercept"], data["calibration"])


def fit_sklearn(examples: Sequence[tuple[str, str]], vectors: np.ndarray) -> tuple[Any, Any]:
    """The scikit-learn fit behind `MessageKindClassifier.train` (imported here only: training is rare)."""
    from joblib.externals.loky import get_reusable_executor
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True, min_df=1)
    features = _stacked(vectorizer.fit_transform([_surface(text) for _, text in examples]), vectors)
    base = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced")
    # The 5 folds fit in parallel processes (same model, half the time on 2 cores); the process pool is shut
    # down afterwards, so a server that trained at start-up does not keep idle copies of scikit-learn.
    model = CalibratedClassifierCV(base, method="sigmoid", cv=5, n_jobs=os.cpu_count())
    try:
        model.fit(features, [kind for kind, _ in examples])
    finally:
        get_reusable_executor().shutdown(wait=True)
    return vectorizer, model


def sklearn_features(vectorizer: Any, text: str, vector: np.ndarray) -> Any:
    """The feature row scikit-learn's model sees for one message (tests compare the exported arrays to it)."""
    return _stacked(vectorizer.transform([_surface(text)]), np.atleast_2d(vector))


def _stacked(grams: Any, vectors: np.ndarray) -> Any:
    """N-gram TF-IDF rows beside their weighted embeddings, as one sparse matrix."""
    from scipy import sparse

    return sparse.hstack([grams, sparse.csr_matrix(vectors * EMBEDDING_WEIGHT)]).tocsr()


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with a space: exactly scikit-learn's
    `char_wb` analyzer (whitespace runs become one space; a word shorter than n is counted once)."""
    grams: list[str] = []
    for word in _WHITESPACE.sub(" ", text).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset:offset + n])
            while offset + n < len(padded):
                offset += 1
                grams.append(padded[offset:offset + n])
            if offset == 0:
                break
    return grams


def training_examples(kinds_file: Path, plan_examples: Sequence[str]) -> list[tuple[str, str]]:
    """The labelled file plus each node's example questions as more `plan` messages."""
    return [*read_examples(kinds_file), *(("plan", text) for text in plan_examples)]


def load_classifier(kinds_file: Path, plan_examples: Sequence[str], embedder: Embedder, cache_dir: Path,
                    progress: Progress | None = None) -> MessageKindClassifier:
    """The cached classifier for exactly these inputs, or a freshly trained (and then cached) one; training
    (about a minute on 2 cores) reports `progress(done, total, what)` as it embeds the examples."""
    examples = training_examples(kinds_file, plan_examples)
    key = _cache_key(examples, getattr(embedder, "name", type(embedder).__name__))
    path = cache_dir / f"message-kinds-{key}.npz"
    if path.exists():
        try:
            return MessageKindClassifier.load(path)
        except Exception:  # a truncated or foreign file: retrain rather than fail
            log.warning("the cached message-kind model %s is unreadable; retraining", path.name)
    vectors = embedder.embed_queries([text for _, text in examples],
                                     counting(progress, "embedding the message-kind examples"))
    if progress:
        progress(0, 1, "fitting the message-kind model")
    classifier = MessageKindClassifier.train(examples, vectors)
    if progress:
        progress(1, 1, "fitting the message-kind model")
    classifier.save(path)
    return classifier


def _cache_key(examples: Sequence[tuple[str, str]], embedder_name: str) -> str:
    digest = hashlib.sha256()
    for part in (FEATURES_VERSION, version("scikit-learn"), embedder_name, str(EMBEDDING_WEIGHT)):
        digest.update(part.encode() + b"\0")
    for kind, text in examples:
        digest.update(f"{kind}\t{text}\n".encode())
    return digest.hexdigest()[:16]
