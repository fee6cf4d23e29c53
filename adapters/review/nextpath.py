"""Where the sign-in may send a reviewer afterwards: only a plain path of the review page (no open redirect)."""

from __future__ import annotations

import posixpath
from urllib.parse import urlencode, urlsplit

LOGIN_PATH = "/review/login"
HOME = "/review"
MAX_CHARS = 2000
#: Pages that make no sense to come back to after signing in.
NOT_A_DESTINATION = frozenset({LOGIN_PATH, "/review/logout"})


def safe_next(raw: object) -> str | None:
    """`raw` when it is a path (with its query) on the review page, else None.

    Refused: anything with a scheme or host (`https://evil`, `//evil`), backslashes, spaces or control
    characters, anything but printable ASCII (a browser sends paths percent-encoded), a percent-escape in the
    path (`/review/%2e%2e/`), dot segments or doubled slashes (`/review/../`), and paths outside /review.
    """
    if not isinstance(raw, str) or not raw or len(raw) > MAX_CHARS:
        return None
    if not all("!" <= ch <= "~" for ch in raw) or "\\" in raw:
        return None
    parts = urlsplit(raw)
    path = parts.path
    if parts.scheme or parts.netloc or not (path == HOME or path.startswith(HOME + "/")):
        return None
    if "%" in path or posixpath.normpath(path) != path or path in NOT_A_DESTINATION:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def login_url(next_path: str | None) -> str:
    """The sign-in page, remembering where to go afterwards (when that is a review page)."""
    target = safe_next(next_path)
    return LOGIN_PATH if target is None or target == HOME else f"{LOGIN_PATH}?{urlencode({'next': target})}"


def same_site_path(referer: str | None, host: str | None) -> str | None:
    """The review page a same-site `Referer` names (the form a failed POST came from), else None."""
    if not referer or not host:
        return None
    parts = urlsplit(referer)
    if parts.netloc != host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
