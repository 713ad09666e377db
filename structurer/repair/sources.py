"""Opening what the reviewer names: a document JSON (and the source text its spans point into),
or a source file, extracted first."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputRefused
from ..ingest import IngestError, SourceText, read_source
from ..model import Document
from ..pipeline import extract_prepared, load_or_extract, open_source


class InputError(ValueError):
    """A problem with what the user named; str(error) is one line."""


@dataclass
class Opened:
    doc: Document
    source: SourceText | None
    path: Path  # what the user named
    is_json: bool
    source_note: str = ""  # why there is no source text, when there is none

    @property
    def stem(self) -> str:
        return self.path.stem


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _candidates(doc_path: Path, name: str) -> list[Path]:
    """Where a document's source usually sits: beside the JSON, one folder up, in a sibling
    folder of the JSON's folder, or in (a folder of) the working directory."""
    folders: list[Path] = []
    here = doc_path.resolve().parent
    for base in (here, here.parent, Path.cwd()):
        folders.append(base)
        try:
            folders.extend(sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")))
        except OSError:
            pass
    seen: set[Path] = set()
    out = []
    for f in folders:
        p = f / name
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def find_source(doc: Document, doc_path: Path, given: Path | None = None) -> tuple[SourceText | None, str]:
    """The source text a document's spans point into, verified by its sha256; or None and why."""
    want = doc.meta.sha256
    if given is not None:
        if not given.is_file():
            raise InputError(f"--source {given}: no such file")
        if want and _sha256(given) != want:
            raise InputError(f"--source {given.name} is not the file {doc.meta.source or 'the document'} "
                             "was extracted from (sha256 differs)")
        try:
            return read_source(given), ""
        except IngestError as e:
            raise InputError(f"--source {given.name}: {e}") from e
    name = Path(doc.meta.source).name if doc.meta.source else ""
    if not name:
        return None, "the document does not name its source file"
    for p in _candidates(doc_path, name):
        if p.is_file() and (not want or _sha256(p) == want):
            try:
                return read_source(p), ""
            except IngestError:
                continue
    return None, f"source {name} not found beside the document (pass --source FILE)"


def open_input(path: Path, source: Path | None = None) -> Opened:
    """Load a document JSON (and find its source) or extract a source file."""
    if not path.exists():
        raise InputError(f"{path.name}: no such file")
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder, not a document")
    if path.suffix.lower() == ".json":
        try:
            doc = load_or_extract(path)
        except InputRefused as e:
            raise InputError(f"{path.name}: {e}") from e
        src, note = find_source(doc, path, source)
        return Opened(doc, src, path, True, note)
    try:
        prep = open_source(path)
        doc = extract_prepared(prep, "rules")
    except InputRefused as e:
        raise InputError(f"{path.name}: {e}") from e
    except ValueError as e:
        raise InputError(f"{path.name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    return Opened(doc, prep.source, path, False)
