"""Reading the project's text files (board profiles, bench files): UTF-8, errors in the caller's words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def read_utf8(
    path: Path, fail: Callable[[str, str, str], Exception], *, not_utf8: str, unreadable: str
) -> str:
    """The text of a UTF-8 file, or ``fail(file, "(file)", problem)`` raised (the one reader of
    the profile loader's and the bench file's YAML). ``not_utf8`` is the problem for bytes that
    are not UTF-8 (``{start}``, ``{reason}``), ``unreadable`` for a file that cannot be read
    (``{strerror}``): each caller says it in its error's own words."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problem = not_utf8.format(start=exc.start, reason=exc.reason)
        raise fail(str(path), "(file)", problem) from None
    except OSError as exc:
        raise fail(str(path), "(file)", unreadable.format(strerror=exc.strerror)) from None
