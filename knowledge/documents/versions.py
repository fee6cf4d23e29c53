"""The version registry: every `planbot index --source` run is a version (label, time, source files with their
sha256, its own Chroma collection); one pointer says which version answers.

The registry lives in Chroma itself (the metadata of one small collection), so the embedded store and a Chroma
server behave the same, and the pointer moves in a single write: readers see the old version or the new one,
never a half-built one (the new collection is complete before the pointer moves).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from chromadb.api import ClientAPI

from knowledge.documents.errors import PassageStoreError, VersionError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file a version was built from."""

    name: str
    path: str
    sha256: str
    format: str
    pages: int | None = None


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """One indexed version of the 基本計画 documents."""

    id: str
    label: str
    created: str
    collection: str
    sources: tuple[SourceFile, ...]
    passages: int

    def to_json(self) -> dict[str, Any]:
        """Plain data, as stored and as `planbot index --list --json` could print it."""
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> PlanVersion:
        """The inverse of `to_json`."""
        sources = tuple(SourceFile(**s) for s in data.get("sources", []))
        return PlanVersion(str(data["id"]), str(data["label"]), str(data["created"]), str(data["collection"]),
                           sources, int(data.get("passages", 0)))


@dataclass(frozen=True, slots=True)
class RegistryState:
    """All versions, oldest first, and the id of the current one (None: the 体系図 alone, no documents)."""

    versions: tuple[PlanVersion, ...]
    current: str | None
    next_number: int

    def find(self, version_id: str | None) -> PlanVersion | None:
        """The version with this id, if it is still kept."""
        return next((v for v in self.versions if v.id == version_id), None)


class VersionRegistry:
    """Reads and moves the pointer. Writers are serialised by the caller (the index lock)."""

    def __init__(self, client: ClientAPI, namespace: str) -> None:
        self._client = client
        self.namespace = namespace
        self._name = f"{namespace}_versions"

    def collection_name(self, version_id: str) -> str:
        """Each version's passages live in their own collection."""
        return f"{self.namespace}_passages_{version_id}"

    def state(self) -> RegistryState:
        """The registry as stored now (empty when no document was ever indexed)."""
        try:
            names = {c.name for c in self._client.list_collections()}
            if self._name not in names:
                return RegistryState((), None, 1)
            metadata = self._client.get_collection(self._name, embedding_function=None).metadata or {}
        except Exception as exc:
            raise PassageStoreError(f"cannot read the version registry ({type(exc).__name__})") from exc
        try:
            data = json.loads(str(metadata.get("registry", "{}")))
            versions = tuple(PlanVersion.from_json(v) for v in data.get("versions", []))
            return RegistryState(versions, data.get("current"), int(data.get("next", len(versions) + 1)))
        except (ValueError, KeyError, TypeError) as exc:
            raise VersionError(f"the version registry {self._name!r} is unreadable ({type(exc).__name__})") from exc

    def allocate_id(self) -> str:
        """The id the next version will get (v0001, v0002, …); ids are never reused, even after a purge."""
        return f"v{self.state().next_number:04d}"

    def add_and_switch(self, version: PlanVersion) -> None:
        """Record a finished version and make it current, in one write."""
        state = self.state()
        number = max(state.next_number, int(version.id.lstrip("v") or 0) + 1)
        self._write(RegistryState((*state.versions, version), version.id, number))

    def switch(self, version_id: str | None) -> None:
        """Point at another kept version (None: no documents)."""
        state = self.state()
        if version_id is not None and state.find(version_id) is None:
            raise VersionError(f"no version {version_id} is kept")
        self._write(RegistryState(state.versions, version_id, state.next_number))

    def forget(self, version_ids: set[str]) -> None:
        """Drop versions from the registry (their collections are deleted by the caller)."""
        state = self.state()
        if state.current in version_ids:
            raise VersionError("the current version cannot be removed")
        kept = tuple(v for v in state.versions if v.id not in version_ids)
        self._write(RegistryState(kept, state.current, state.next_number))

    def _write(self, state: RegistryState) -> None:
        payload = json.dumps({"versions": [v.to_json() for v in state.versions], "current": state.current,
                              "next": state.next_number}, ensure_ascii=False)
        try:
            collection = self._client.get_or_create_collection(self._name, embedding_function=None)
            collection.modify(metadata={"registry": payload})
        except Exception as exc:
            raise PassageStoreError(f"cannot write the version registry ({type(exc).__name__})") from exc
        log.info("version registry: current=%s, %d versions kept", state.current, len(state.versions))
