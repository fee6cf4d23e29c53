"""Who to ask about a part of the plan: the city's contacts file, most specific node first.

The file (`knowledge/contacts.tsv`, or `PLANBOT_CONTACTS_FILE`) maps node ids to a department, phone and URL.
The city fills it in; a node without a row inherits its policy's or pillar's, then `PLANBOT_CITY_CONTACT`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError

DEFAULT_CONTACTS_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "contacts.tsv"


@dataclass(frozen=True, slots=True)
class Contact:
    """One department to ask. `node_id` is None for the city-wide fallback."""

    department: str
    phone: str = ""
    url: str = ""
    node_id: str | None = None

    @property
    def display(self) -> str:
        """「〇〇課（電話 017-000-0000）」, or the department alone when no phone is known."""
        return f"{self.department}（電話 {self.phone}）" if self.phone else self.department

    def card(self) -> str:
        """The contact as a few plain lines (LINE's 「市役所に問い合わせる」, Slack's button)."""
        lines = ["お問い合わせ先", self.department]
        if self.phone:
            lines.append(f"電話 {self.phone}")
        if self.url:
            lines.append(self.url)
        return "\n".join(lines)


def parse_contacts(lines: Iterable[str], source: str = "contacts") -> dict[str, Contact]:
    """`node_id<TAB>department<TAB>phone<TAB>url` rows; `#` comments and blank lines skipped."""
    contacts: dict[str, Contact] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise ConfigError(f"{source}:{number}: expected node_id, department, phone, url separated by tabs")
        fields += [""] * (4 - len(fields))
        contacts[fields[0]] = Contact(fields[1], fields[2], fields[3], node_id=fields[0])
    return contacts


def _ancestry(node_id: str) -> list[str]:
    """`3.2.2` → `3.2.2`, `3.2`, `3` (sections are their own only ancestor)."""
    if not node_id[:1].isdigit():
        return [node_id]
    parts = node_id.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


class ContactBook:
    """The contacts file, read once, and the city-wide fallback."""

    def __init__(self, contacts: dict[str, Contact], fallback: str) -> None:
        self.contacts = contacts
        self.fallback = Contact(fallback)

    @classmethod
    def load(cls, path: Path | None, fallback: str) -> ContactBook:
        """Read the file (missing file: no node contacts, only the fallback)."""
        chosen = path or DEFAULT_CONTACTS_FILE
        if not chosen.is_file():
            if path is not None:
                raise ConfigError(f"contacts file not found: {path}")
            return cls({}, fallback)
        with chosen.open(encoding="utf-8-sig") as handle:
            return cls(parse_contacts(handle, chosen.name), fallback)

    def specific(self, node_id: str) -> Contact | None:
        """The node's own contact, else its policy's, else its pillar's; None when none is on file."""
        for candidate in _ancestry(node_id):
            if candidate in self.contacts:
                return self.contacts[candidate]
        return None

    def for_nodes(self, node_ids: Iterable[str]) -> Contact:
        """The most specific contact among the nodes (most relevant first), else the fallback."""
        best: tuple[int, Contact] | None = None
        for node_id in node_ids:
            found = self.specific(node_id)
            if found is None or found.node_id is None:
                continue
            depth = len(_ancestry(found.node_id))
            if best is None or depth > best[0]:
                best = (depth, found)
        return best[1] if best else self.fallback

    def missing(self, node_ids: Iterable[str]) -> list[str]:
        """Nodes with no contact of their own nor inherited (they fall back to the city's)."""
        return [node_id for node_id in node_ids if self.specific(node_id) is None]
