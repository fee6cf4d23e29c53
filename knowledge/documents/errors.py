"""Errors of document loading and versions. Each names the file or version it is about, in one line."""

from __future__ import annotations

from pathlib import Path


class KnowledgeDocumentError(Exception):
    """Base of the errors raised while loading plan documents or switching versions."""


class DocumentError(KnowledgeDocumentError):
    """A source file cannot be used: unreadable, a scan, encrypted, corrupt, empty, wrong type, or nothing placed.

    The message is one line and starts with the file name, so an operator knows which file to fix.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


class VersionError(KnowledgeDocumentError):
    """A version operation is impossible (nothing to roll back to, an unknown version, an unreadable registry)."""


class PassageStoreError(KnowledgeDocumentError):
    """The passage store (Chroma) could not be opened, written or queried."""
