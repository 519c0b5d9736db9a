"""Files cxkpi writes: created without following a link, so a planted one redirects nothing.

Someone who can write into an output folder could plant `<pack>.html.partial -> ~/.bashrc`
and wait for the next command to write through it. Every file cxkpi writes is therefore
created here with O_CREAT | O_EXCL | O_NOFOLLOW (a name that exists, link or not, is never
opened for writing), moved into place by rename (which replaces a name, never writes
through it), and an entry that is a link where a file is expected is refused in one line.
tests/security/test_written_files.py.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from etl.errors import CxkpiError

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class LinkRefused(CxkpiError):
    """A link where cxkpi writes a file."""


def refuse_link(path: Path) -> None:
    """One line if path is a symbolic link: cxkpi writes there and never follows one."""
    if path.is_symlink():
        raise LinkRefused(
            f"{path} is a symbolic link where cxkpi writes a file; it never writes through a"
            " link: remove it (or choose another folder)"
        )


def refuse_links_in(folder: Path) -> None:
    """One line if folder, or any folder or file under it, is a symbolic link.

    For the Spark lake, whose folders Spark and DuckDB write into and remove whole: a linked
    folder in it would move those writes and removals elsewhere.
    """
    refuse_link(folder)
    for root, folders, files in os.walk(folder):  # a linked folder is listed, never entered
        for name in (*folders, *files):
            refuse_link(Path(root, name))


def write_new(path: Path, content: bytes) -> None:
    """Write a file that must not exist yet (a link of that name included) via a temporary."""
    refuse_link(path)
    if path.exists():
        raise FileExistsError(path)
    partial = _write_partial(path, content)
    try:
        os.link(partial, path)  # fails if the name appeared meanwhile: never overwrites
    finally:
        partial.unlink(missing_ok=True)


def replace(path: Path, content: bytes) -> None:
    """Write a file, replacing any earlier one in one rename (a link there is refused)."""
    refuse_link(path)
    partial = _write_partial(path, content)
    try:
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write_partial(path: Path, content: bytes) -> Path:
    """path.partial, created afresh: a stale regular file is removed, a link refused."""
    partial = path.with_name(path.name + ".partial")
    refuse_link(partial)
    partial.unlink(missing_ok=True)
    fd = os.open(partial, _CREATE, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return partial


def open_new(path: Path):
    """A binary handle on a new file at path (a leftover regular file is replaced first)."""
    refuse_link(path)
    path.unlink(missing_ok=True)
    return os.fdopen(os.open(path, _CREATE, 0o644), "wb")


def open_lock(path: Path) -> int:
    """A descriptor on a lock file, created if missing, never through a link."""
    refuse_link(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as error:
        if path.is_symlink():
            refuse_link(path)
        raise CxkpiError(f"{path}: cannot open the lock ({error.strerror or error})") from None
