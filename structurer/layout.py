"""Source lines with their normalized form, and conversion of offsets to spans."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .ingest import SourceText
from .model import Span
from .normalize import NText, compact, normalize_line


class Line:
    """One source line: raw text, normalized text (with its source map) and compact form."""

    __slots__ = ("index", "raw", "norm", "compact")

    def __init__(self, index: int, raw: str, norm: NText):
        self.index = index  # 0-based position in the document
        self.raw = raw
        self.norm = norm
        self.compact = compact(norm.text)  # whitespace-free: what titles and headers match

    @property
    def no(self) -> int:
        return self.index + 1

    @property
    def blank(self) -> bool:
        return not self.compact


@dataclass
class Layout:
    source: SourceText
    lines: list[Line] = field(default_factory=list)

    @classmethod
    def of(cls, source: SourceText) -> "Layout":
        lines = [Line(i, raw, normalize_line(raw, start))
                 for i, (raw, start) in enumerate(zip(source.lines, source.line_starts))]
        return cls(source, lines)

    def span(self, start: int, end: int) -> Span:
        starts = self.source.line_starts
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, max(start, end - 1)) - 1
        return Span(line_start=first + 1, line_end=last + 1, start=start, end=end)

    def span_of(self, text: NText, i: int = 0, j: int | None = None) -> Span:
        return self.span(*text.source_range(i, j))

    def lines_span(self, first: int, last: int) -> Span:
        """Span covering whole lines first..last (0-based indices, inclusive)."""
        starts = self.source.line_starts
        end = starts[last] + len(self.source.lines[last])
        return Span(line_start=first + 1, line_end=last + 1, start=starts[first], end=end)

    def printed(self, span: Span) -> str:
        return self.source.text[span.start:span.end]
