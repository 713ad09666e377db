"""One path from a user's file to a document: ingest → layout → segment → extract."""
from __future__ import annotations

from pathlib import Path

from .errors import InputRefused, NotADisclosure
from .ingest import SourceText, read_source
from .layout import Layout
from .model import Document, Section
from .output import load_document
from .provenance import locate
from .rules import extract_rules
from .segment import Segmentation, segment


class Prepared:
    """A source read, normalized and segmented: what every backend starts from."""

    def __init__(self, source: SourceText):
        self.source = source
        self.layout = Layout.of(source)
        self.seg: Segmentation = segment(self.layout)
        self.seg.meta.source = Path(source.path).name
        self.seg.meta.sha256 = source.sha256
        self.seg.meta.format = source.format
        self.seg.meta.encoding = source.encoding

    def sections(self) -> list[Section]:
        out = []
        for s in self.seg.sections:
            out.append(Section(id=s.id, kind=s.kind, title=s.title, unit=s.unit,
                               span=self.layout.lines_span(s.first, s.last),
                               empty=bool(s.empty_note)))
        return out


def prepare(path: str | Path, ocr: str = "auto", progress=None) -> Prepared:
    """Read, lay out and segment a source file. `ocr`: auto (pages without a text layer and
    image files are read by OCR), always, never; `progress(page, pages)` per OCR'd page."""
    return Prepared(read_source(path, ocr, progress))


def accept(prep: Prepared) -> Prepared:
    """The prepared document if it is a disclosure. A 预算 in a title is not enough (a manual or
    a notice mentions it): a disclosure prints at least one standard or performance table."""
    if not any(s.kind in ("table", "performance") for s in prep.seg.sections):
        raise NotADisclosure("not a budget or final-accounts disclosure "
                             "(no standard table or performance table located)")
    return prep


def open_source(path: str | Path, ocr: str = "auto", progress=None) -> Prepared:
    """Read, lay out and segment a source file and accept it as a disclosure; raises
    InputRefused (NotADisclosure among them) with a one-line message."""
    p = Path(path)
    if not p.exists():
        raise InputRefused("no such file")
    if p.is_dir():
        raise InputRefused("is a folder, not a document")
    return accept(prepare(p, ocr, progress))


BACKENDS = ("rules", "llm", "hybrid")


def extract_prepared(prep: Prepared, backend: str = "rules", **llm_options) -> Document:
    """Structure a prepared document. `llm_options` (model name, cache settings, …) go to the
    LLM backends, implemented in structurer.llm.backend.extract_with_llm."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")

    if backend == "rules":
        return locate(extract_rules(prep), prep.source.boxes)
    from .llm.backend import extract_with_llm  # deferred: loads openai and instructor

    return locate(extract_with_llm(prep, backend, **llm_options), prep.source.boxes)


def extract_file(path: str | Path, backend: str = "rules", ocr: str = "auto", **llm_options) -> Document:
    return extract_prepared(prepare(path, ocr), backend, **llm_options)


def load_or_extract(path: str | Path, backend: str = "rules", ocr: str = "auto", progress=None) -> Document:
    """A document JSON is loaded; any other file is opened as a source and extracted."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        try:
            return load_document(p)
        except (OSError, ValueError) as e:
            raise InputRefused(f"not a structurer document JSON ({str(e).splitlines()[0][:120]})") from e
    return extract_prepared(open_source(p, ocr, progress), backend)
