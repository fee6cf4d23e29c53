"""Word .docx through python-docx: paragraphs with heading styles and lists, tables row by row, in body order."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from knowledge.documents.errors import DocumentError
from knowledge.documents.indicators import spread_merged
from knowledge.documents.model import Block
from knowledge.documents.readers import ReadDocument
from knowledge.documents.text import squash

_HEADING_STYLE = re.compile(r"^(?:heading|見出し)\s*(\d)", re.IGNORECASE)


def read_docx(path: Path, data: bytes) -> ReadDocument:
    """Blocks of a Word document (no pages: Word lays pages out only when it prints)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_body_blocks(document))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(path, f"the Word file is corrupt or not a .docx ({type(exc).__name__})") from exc
    if not blocks:
        raise DocumentError(path, "the Word file contains no text")
    return ReadDocument(path, "docx", blocks)


def _body_blocks(document: object) -> Iterator[Block]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Paragraph):
            block = _paragraph_block(item)
            if block is not None:
                yield block
        elif isinstance(item, Table):
            yield from _table_rows(item)


def _paragraph_block(paragraph: object) -> Block | None:
    text = re.sub(r"\s+", " ", paragraph.text).strip()  # type: ignore[attr-defined]
    if not text:
        return None
    style = getattr(getattr(paragraph, "style", None), "name", "") or ""
    if heading := _HEADING_STYLE.match(style):
        return Block("heading", text, level=int(heading.group(1)))
    if style.lower() == "title":
        return Block("heading", text, level=1)
    properties = paragraph._p.pPr  # type: ignore[attr-defined]
    if "list" in style.lower() or (properties is not None and properties.numPr is not None):
        return Block("item", text)
    return Block("text", text)


def _table_rows(table: object) -> Iterator[Block]:
    for row in table.rows:  # type: ignore[attr-defined]
        texts: list[str] = []
        spans: list[int] = []
        previous = None
        for cell in row.cells:
            # A cell merged across columns is returned once per grid column it spans (one across rows, once per
            # row, which keeps its text in each): count its span, so the row keeps the header's columns.
            if cell._tc is previous:
                spans[-1] += 1
                continue
            previous = cell._tc
            texts.append(squash(cell.text))
            spans.append(1)
        cells = spread_merged(texts, spans)
        if any(cells):
            yield Block("row", " | ".join(cells), cells=cells)
