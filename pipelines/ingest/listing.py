"""The landing folder's files, listed in one walk, and the globs the sources name them by.

A region campaign has some 10,000 forms, and the check of whether a stage has anything to read asks for
the files of a dozen sources, the markers and the campaigns. Each glob of the folder costs a walk of it;
within ``one_listing()`` the folder is walked once and every question is answered from that list.
Outside it, each call walks the folder again, so a long-lived process (the sensor) always sees the
folder as it is now.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path

_LISTINGS: contextvars.ContextVar[dict[str, tuple[str, ...]] | None] = contextvars.ContextVar(
    "landing_listings", default=None
)


def landing_files(landing_dir: Path) -> tuple[str, ...]:
    """Every file under the folder as a sorted relative POSIX path; hidden files and folders left out, as
    glob leaves them out."""
    listings = _LISTINGS.get()
    key = os.fspath(landing_dir)
    if listings is not None and key in listings:
        return listings[key]
    files = tuple(sorted(_walk(key)))
    if listings is not None:
        listings[key] = files
    return files


def _walk(root: str) -> Iterator[str]:
    for folder, folders, names in os.walk(root):
        folders[:] = [f for f in folders if not f.startswith(".")]
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        yield from (prefix + name for name in names if not name.startswith("."))


@contextlib.contextmanager
def one_listing() -> Iterator[None]:
    """Within the block, the landing folder is walked once however many sources ask for its files."""
    token = _LISTINGS.set({})
    try:
        yield
    finally:
        _LISTINGS.reset(token)


def matching(files: tuple[str, ...], pattern: str) -> list[str]:
    """The files a glob of the sources names: ``*`` and ``?`` within one folder, ``**`` any folders (none too)."""
    regex = _glob_regex(pattern)
    return [file for file in files if regex.fullmatch(file)]


@functools.cache
def _glob_regex(pattern: str) -> re.Pattern:
    parts = []
    for component in pattern.split("/"):
        if component == "**":
            parts.append("(?:[^/]+/)*")
        else:
            parts.append(re.escape(component).replace(r"\*", "[^/]*").replace(r"\?", "[^/]") + "/")
    return re.compile("".join(parts).removesuffix("/"))
