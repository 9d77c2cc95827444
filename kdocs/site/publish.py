"""The published snippet files, kept across MkDocs' clean of the site folder.

MkDocs empties the site folder at the start of every build, and creating a
file whose previous copy was just deleted costs the kernel ~0.4 ms on ext4:
150 snippet files cost an unchanged 50-page build ~60 ms of system time, more
than any other kdocs step. MkDocs' clean leaves hidden entries alone, so the
plugin moves the last build's `snippets/` folder to a hidden name before the
clean and back afterwards; publishing then writes only files whose bytes
differ and removes the ones no page uses any more. The published tree is the
same as a fresh write; anything unexpected in the kept folder drops it.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

KEPT = ".kdocs-snippets"  # hidden: MkDocs' clean_directory skips names starting with "."


def keep(published: Path) -> None:
    """Before MkDocs' clean: move the last build's published folder aside."""
    kept = published.parent / KEPT
    drop(published.parent)  # a leftover of an interrupted build
    if published.is_dir() and not published.is_symlink():
        os.replace(published, kept)


def drop(site_dir: Path) -> None:
    """Remove the kept folder (a failed build, or nothing to reuse)."""
    kept = site_dir / KEPT
    if kept.is_symlink() or kept.is_file():
        kept.unlink()
    elif kept.is_dir():
        shutil.rmtree(kept, ignore_errors=True)


def publish(published: Path, files: dict[str, bytes]) -> None:
    """Make `published` hold exactly `files` (path under it -> bytes), reusing what was kept."""
    kept = published.parent / KEPT
    if kept.is_dir() and not kept.is_symlink() and not os.path.lexists(published):
        os.replace(kept, published)
        try:
            _update(published, files)
            return
        except OSError:  # a kept entry of another type in the way: write afresh
            shutil.rmtree(published, ignore_errors=True)
    drop(published.parent)
    _write_all(published, files)


def _write_all(published: Path, files: dict[str, bytes]) -> None:
    made: set[Path] = set()
    for rel, data in sorted(files.items()):
        target = published / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(data)


def _update(published: Path, files: dict[str, bytes]) -> None:
    wanted = {os.path.join(published, *rel.split("/")): data for rel, data in files.items()}
    needed_dirs = {str(published)}
    for path in wanted:
        parent = os.path.dirname(path)
        while parent not in needed_dirs:
            needed_dirs.add(parent)
            parent = os.path.dirname(parent)
    for folder, dirs, names in os.walk(published):  # symlinks are not followed
        for name in names:
            path = os.path.join(folder, name)
            if path not in wanted:
                os.unlink(path)
        for name in list(dirs):
            path = os.path.join(folder, name)
            if os.path.islink(path):  # never written through, even where a folder is needed
                os.unlink(path)
                dirs.remove(name)
            elif path not in needed_dirs:
                shutil.rmtree(path)
                dirs.remove(name)
    for path, data in sorted(wanted.items()):
        if _holds(path, data):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(data)


def _holds(path: str, data: bytes) -> bool:
    """The kept file is a regular file with exactly these bytes."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.unlink(path)  # a symlink or a hard link: never write through it
        return False
    if info.st_size != len(data):
        return False
    with open(path, "rb") as kept:
        return kept.read() == data
