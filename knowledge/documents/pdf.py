"""PDF with a text layer, through pypdf. Scans, encrypted and corrupt files are refused with a clear reason."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from knowledge.documents.errors import DocumentError
from knowledge.documents.model import Block
from knowledge.documents.readers import ReadDocument

#: A running page number alone on the first or last line of a page: 「12」, 「- 12 -」, 「12 / 150」, 「P.12」.
_PAGE_NUMBER = re.compile(r"^(?:[-–—－(（]?\s*(?:p\.?|P\.?)?\s*\d{1,4}\s*[-–—－)）]?|\d{1,4}\s*/\s*\d{1,4})$")


def read_pdf(path: Path, data: bytes) -> ReadDocument:
    """Lines of text with their page numbers."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about sloppy files are not ours to show
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
    blocks: list[Block] = []
    without_text: list[int] = []
    for number, page in enumerate(pages, start=1):
        lines = _page_lines(path, page, number)
        if not lines:
            without_text.append(number)
        blocks += [Block("text", line, page=number) for line in lines]
    if not blocks:
        if any(_has_images(page) for page in pages):
            raise DocumentError(path, "the PDF has no text layer (a scanned image): run OCR on it or use the "
                                      "original document")
        raise DocumentError(path, "the PDF contains no text")
    notes = [f"pages without text (scanned images?): {_ranges(without_text)}"] if without_text else []
    return ReadDocument(path, "pdf", blocks, pages=len(pages), notes=notes)


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
    lines = [line for line in lines if line]
    while lines and _PAGE_NUMBER.match(lines[-1]):
        lines.pop()
    if lines and _PAGE_NUMBER.match(lines[0]):
        lines.pop(0)
    return lines


def _has_images(page: object) -> bool:
    try:
        return bool(page.images)  # type: ignore[attr-defined]
    except Exception:
        return False


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" … ({len(numbers)} pages)" if len(numbers) > 10 else "")
