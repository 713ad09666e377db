"""One path from a user's file to a document: ingest → layout → segment → extract."""
from __future__ import annotations

from pathlib import Path

from .ingest import SourceText, read_source
from .layout import Layout
from .model import Document, Section
from .provenance import locate
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


def prepare(path: str | Path) -> Prepared:
    return Prepared(read_source(path))


BACKENDS = ("rules", "llm", "hybrid")


def extract_prepared(prep: Prepared, backend: str = "rules", **llm_options) -> Document:
    """Structure a prepared document. `llm_options` (model name, cache settings, …) go to the
    LLM backends, implemented in structurer.llm.backend.extract_with_llm."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    from .rules import extract_rules

    if backend == "rules":
        return locate(extract_rules(prep), prep.source.boxes)
    from .llm.backend import extract_with_llm

    return locate(extract_with_llm(prep, backend, **llm_options), prep.source.boxes)


def extract_file(path: str | Path, backend: str = "rules", **llm_options) -> Document:
    return extract_prepared(prepare(path), backend, **llm_options)
