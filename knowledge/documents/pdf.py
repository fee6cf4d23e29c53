"""PDF with a text layer. Running text through pypdf (several times faster, bench/RESULTS.md); the pages that hold
a 指標 table through pdfplumber, cell by cell: ruled tables from their lines (merged and wrapped cells), unruled
ones from the columns their header's words stand in. Page numbers, running headers and footers are left out.
Scans, encrypted and corrupt files are refused with a clear reason."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from knowledge.documents.errors import DocumentError
from knowledge.documents.furniture import PAGE_NUMBER, strip_page_furniture
from knowledge.documents.model import Block
from knowledge.documents.pdf_tables import page_blocks
from knowledge.documents.readers import ReadDocument
from knowledge.documents.vocabulary import fold

#: Words that only a 指標 table's header holds; a page with two of them is read cell by cell.
_TABLE_WORDS = ("現状値", "基準値", "実績値", "現況値", "目標値", "単位", "指標名", "成果指標", "基準年度", "目標年度")
_TWO_NUMBERS = re.compile(r"\d[\d,.]*\D+\d")


def read_pdf(path: Path, data: bytes) -> ReadDocument:
    """Blocks (lines of text, table rows) with their page numbers."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about sloppy files are not ours to show
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        _decrypt(path, reader)
        pages = list(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DocumentError(path, f"the PDF is corrupt and cannot be read ({type(exc).__name__})") from exc
    if not pages:
        raise DocumentError(path, "the PDF has no pages (corrupt or empty)")
    lines = [_page_lines(path, page, number) for number, page in enumerate(pages, start=1)]
    per_page = [[Block("text", line, page=number) for line in page_lines]
                for number, page_lines in enumerate(lines, start=1)]
    for number, blocks in _table_pages(path, data, lines).items():
        per_page[number - 1] = blocks
    without_text = [n for n, blocks in enumerate(per_page, start=1) if not blocks]
    blocks, notes = strip_page_furniture(per_page)
    if not blocks:
        if any(_has_images(page) for page in pages):
            raise DocumentError(path, "the PDF has no text layer (a scanned image): run OCR on it or use the "
                                      "original document")
        raise DocumentError(path, "the PDF contains no text")
    if without_text:
        notes.insert(0, f"pages without text (scanned images?): {_ranges(without_text)}")
    return ReadDocument(path, "pdf", blocks, pages=len(pages), notes=notes)


def _table_pages(path: Path, data: bytes, lines: list[list[str]]) -> dict[int, list[Block]]:
    """The pages that may hold a 指標 table (and the page after one that runs to its foot), read by pdfplumber."""
    wanted: list[int] = []
    for number, page_lines in enumerate(lines, start=1):
        text = fold(" ".join(page_lines))
        if sum(word in text for word in _TABLE_WORDS) >= 2:
            wanted.append(number)
            content = [line for line in page_lines if not PAGE_NUMBER.match(line)]
            if number < len(lines) and content and _TWO_NUMBERS.search(content[-1]):
                wanted.append(number + 1)  # the table runs to the foot of the page: it may go on
    wanted = sorted(set(wanted))
    if not wanted:
        return {}
    import pdfplumber

    found: dict[int, list[Block]] = {}
    try:
        with pdfplumber.open(io.BytesIO(data), pages=wanted) as pdf:
            for number, page in zip(wanted, pdf.pages, strict=True):
                found[number] = page_blocks(page, number)
                page.close()
    except Exception as exc:  # pdfminer raises many kinds on broken files; the text layer was readable
        raise DocumentError(path, f"a table page of the PDF cannot be read ({type(exc).__name__})") from exc
    return found


def _decrypt(path: Path, reader: object) -> None:
    """Files protected only against editing open with the empty password; a real password is refused."""
    from pypdf import PasswordType

    if not getattr(reader, "is_encrypted", False):
        return
    try:
        result = reader.decrypt("")  # type: ignore[attr-defined]
    except Exception as exc:
        raise DocumentError(path, f"the PDF is encrypted and cannot be opened ({type(exc).__name__})") from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise DocumentError(path, "the PDF is encrypted with a password: load an unprotected copy")


def _page_lines(path: Path, page: object, number: int) -> list[str]:
    try:
        text: str = page.extract_text() or ""  # type: ignore[attr-defined]
    except Exception as exc:
        raise DocumentError(path, f"page {number} of the PDF is corrupt ({type(exc).__name__})") from exc
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in text.splitlines()]
    return [line for line in lines if line]


def _has_images(page: object) -> bool:
    try:
        return bool(page.images)  # type: ignore[attr-defined]
    except Exception:
        return False


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" … ({len(numbers)} pages)" if len(numbers) > 10 else "")
