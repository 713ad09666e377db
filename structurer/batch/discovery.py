"""Finding a batch's documents: supported files under a folder, recursively, in a stable order.

Discovery streams: one folder listing is in memory at a time, so a corpus of any size costs
the same. Hidden files and folders (names starting with ".") are skipped, and so are the
folders given in `exclude` (the batch's own output folder when it lies inside the input).
Symbolic links to files are followed; links to folders are not (no cycles).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..ingest import SUFFIXES

__all__ = ["Input", "SUFFIXES", "count_inputs", "iter_inputs", "normalize_suffixes"]


@dataclass(frozen=True, slots=True)
class Input:
    rel: str  # path relative to the input folder, "/"-separated: the document's id
    path: Path  # absolute path
    size: int
    mtime_ns: int


def normalize_suffixes(suffixes: Iterable[str] | None) -> tuple[str, ...]:
    """Lower-case, dot-prefixed suffixes; each must be one `structurer` can read."""
    if not suffixes:
        return SUFFIXES
    out = []
    for s in suffixes:
        s = s.strip().lower()
        s = s if s.startswith(".") else "." + s
        if s not in SUFFIXES:
            raise ValueError(f"unsupported file type {s} (supported: {' '.join(SUFFIXES)})")
        out.append(s)
    return tuple(dict.fromkeys(out))


def iter_inputs(root: str | os.PathLike[str], suffixes: Iterable[str] | None = None,
                exclude: Iterable[str | os.PathLike[str]] = (),
                on_error: Callable[[str], None] | None = None) -> Iterator[Input]:
    """Yield every supported file under `root`, depth first, entries sorted by name."""
    root = Path(root).resolve()
    wanted = normalize_suffixes(suffixes)
    skip = {Path(e).resolve() for e in exclude}
    yield from _walk(root, root, wanted, skip, on_error)


def count_inputs(root: str | os.PathLike[str], suffixes: Iterable[str] | None = None,
                 exclude: Iterable[str | os.PathLike[str]] = ()) -> int:
    return sum(1 for _ in iter_inputs(root, suffixes, exclude))


def _walk(root: Path, folder: Path, wanted: tuple[str, ...], skip: set[Path],
          on_error: Callable[[str], None] | None) -> Iterator[Input]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if on_error is not None:
            on_error(f"cannot list {folder}: {exc.strerror or exc}")
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        try:
            if e.is_dir(follow_symlinks=False):
                sub = Path(e.path)
                if sub not in skip:
                    yield from _walk(root, sub, wanted, skip, on_error)
                continue
            if os.path.splitext(e.name)[1].lower() not in wanted or not e.is_file():
                continue
            st = e.stat()  # follows a link to a file
        except OSError as exc:
            if on_error is not None:
                on_error(f"cannot read {e.path}: {exc.strerror or exc}")
            continue
        path = Path(e.path)
        yield Input(path.relative_to(root).as_posix(), path, st.st_size, st.st_mtime_ns)
