"""Read a source file into blocks, with an established library per format, after checking the file is what its
extension says. Every failure is a `DocumentError` naming the file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.documents.errors import DocumentError
from knowledge.documents.model import Block

FORMATS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".md": "markdown",
           ".markdown": "markdown", ".txt": "text"}
SUPPORTED = "PDF (with a text layer), Word (.docx), HTML, Markdown or text"


@dataclass(frozen=True)
class ReadDocument:
    """What a reader found: blocks in reading order, the page count (PDF), and anything worth telling."""

    path: Path
    format: str
    blocks: list[Block]
    pages: int | None = None
    notes: list[str] = field(default_factory=list)


def read_document(path: Path) -> ReadDocument:
    """Read any supported file. Raises `DocumentError` for a missing, empty, mislabelled or unreadable file."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        hint = "; save it as .docx" if path.suffix.lower() == ".doc" else ""
        raise DocumentError(path, f"unsupported file type {path.suffix or '(none)'!r}: use {SUPPORTED}{hint}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"cannot read the file ({exc.strerror or type(exc).__name__})") from exc
    if not data.strip():
        raise DocumentError(path, "the file is empty")
    _check_kind(path, fmt, data)
    if fmt == "pdf":
        from knowledge.documents.pdf import read_pdf

        return read_pdf(path, data)
    if fmt == "docx":
        from knowledge.documents.docx_reader import read_docx

        return read_docx(path, data)
    if fmt == "html":
        return ReadDocument(path, fmt, list(html_blocks(data)))
    text = decode_text(path, data)
    blocks = list(markdown_blocks(text) if fmt == "markdown" else text_blocks(text))
    return ReadDocument(path, fmt, blocks)


def _sniff(data: bytes) -> str | None:
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "a PDF"
    if data.startswith(b"PK\x03\x04"):
        return "a ZIP archive (Word .docx, Excel .xlsx …)"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an encrypted Office file or an old .doc/.xls"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "an image"
    return None


def _check_kind(path: Path, fmt: str, data: bytes) -> None:
    found = _sniff(data)
    if fmt == "pdf" and found != "a PDF":
        raise DocumentError(path, f"not a PDF although named .pdf (it looks like {found or 'text or unknown data'})")
    if fmt == "docx":
        if found == "an encrypted Office file or an old .doc/.xls":
            raise DocumentError(path, "the Word file is encrypted (or an old .doc renamed): "
                                      "save it unprotected as .docx")
        if found != "a ZIP archive (Word .docx, Excel .xlsx …)":
            raise DocumentError(path, f"not a Word .docx file (it looks like {found or 'text or unknown data'})")
    if fmt in ("html", "markdown", "text") and found is not None:
        raise DocumentError(path, f"not a {fmt} file although named {path.suffix} (it looks like {found})")


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS (cp932), which Japanese offices still produce."""
    if b"\x00" in data[:4096]:
        raise DocumentError(path, "binary data, not text")
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError(path, "the text is neither UTF-8 nor Shift_JIS")


def text_blocks(text: str) -> Iterator[Block]:
    """Plain text (and the 体系図 text): one block per non-empty line; Markdown-style 「- 」 bullets become items."""
    for line in text.splitlines():
        cleaned = line.replace("**", "").strip()
        if re.match(r"^[-*]\s+\S", cleaned):
            yield Block("item", cleaned[1:].strip())
        elif cleaned:
            yield Block("text", cleaned)


def markdown_blocks(text: str) -> Iterator[Block]:
    """Markdown through markdown-it-py (CommonMark + tables): headings, paragraph lines, list items, table rows."""
    from markdown_it import MarkdownIt

    list_depth = heading_level = 0
    in_cell = False
    cells: list[str] = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open", "bullet_list_close", "ordered_list_close"):
            list_depth += 1 if kind.endswith("open") else -1
        elif kind == "heading_open":
            heading_level = int(token.tag[1])
        elif kind in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = kind.endswith("open")
        elif kind == "tr_open":
            cells = []
        elif kind == "tr_close":
            yield Block("row", " | ".join(cells), cells=tuple(cells))
        elif kind == "inline":
            content = _inline_text(token)
            if in_cell:
                cells.append(content.replace("\n", " ").strip())
            elif heading_level:
                yield Block("heading", content.strip(), level=heading_level)
                heading_level = 0
            elif list_depth:
                yield Block("item", content.replace("\n", "").strip())
            else:
                yield from (Block("text", line.strip()) for line in content.splitlines() if line.strip())


def _inline_text(token: object) -> str:
    children = getattr(token, "children", None) or []
    parts = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


_BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt", "dd", "caption"]


def html_blocks(data: bytes) -> Iterator[Block]:
    """HTML through BeautifulSoup (encoding from the page itself): h1–h6, paragraphs, list items, table rows."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(data, "html.parser")
    for unwanted in soup.find_all(["script", "style", "noscript", "nav", "template"]):
        unwanted.decompose()
    below: dict[int, tuple[str, int]] = {}  # grid column → (text, rows still covered) of a rowspan cell
    table: object = None
    for element in soup.find_all(_BLOCK_TAGS):
        if not isinstance(element, Tag) or element.find_parent(["tr", "li"] if element.name != "li" else ["tr"]):
            continue
        if element.name == "tr":
            if element.find_parent("table") is not table:
                table, below = element.find_parent("table"), {}  # a rowspan never reaches into the next table
            cells = _html_row(element, below)
            if any(cells):
                yield Block("row", " | ".join(cells), cells=cells)
        elif element.name == "li":
            own = "".join(str(s) for s in element.find_all(string=True)
                          if s.find_parent(["ul", "ol"]) is element.parent)
            if own.strip():
                yield Block("item", _squash(own))
        elif element.name[0] == "h" and element.name[1:].isdigit():
            yield Block("heading", _squash(element.get_text(" ")), level=int(element.name[1:]))
        else:
            for line in element.get_text("\n").splitlines():
                if line.strip():
                    yield Block("text", _squash(line))


def _html_row(row: object, below: dict[int, tuple[str, int]]) -> tuple[str, ...]:
    """One text per grid column: a rowspan cell repeated in the rows it covers, colspan spread as in Word."""
    from knowledge.documents.indicators import spread_merged

    texts: list[str] = []
    spans: list[int] = []
    column = 0
    for cell in row.find_all(["th", "td"]):  # type: ignore[attr-defined]
        while column in below:
            column = _covered(below, column, texts, spans)
        span = _int(cell.get("colspan"))
        text = _squash(cell.get_text(" "))
        if (rows := _int(cell.get("rowspan"))) > 1:
            below.update({c: (text, rows - 1) for c in range(column, column + span)})
        texts.append(text)
        spans.append(span)
        column += span
    while column in below:
        column = _covered(below, column, texts, spans)
    return spread_merged(texts, spans)


def _covered(below: dict[int, tuple[str, int]], column: int, texts: list[str], spans: list[int]) -> int:
    text, left = below.pop(column)
    if left > 1:
        below[column] = (text, left - 1)
    texts.append(text)
    spans.append(1)
    return column + 1


def _int(value: object) -> int:
    try:
        return max(1, int(str(value)))
    except ValueError:
        return 1


def _squash(text: str) -> str:
    """Collapse whitespace; drop the spaces HTML puts between Japanese characters at line breaks."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", text)
