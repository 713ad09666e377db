"""Normalization for matching, with every normalized character mapped to its source offset.

Full-width → half-width (NFKC), traditional → simplified (character level, so lengths are
kept), HTML tags, markdown markers, bookmarks and LaTeX fragments removed or rewritten.
The printed text is never replaced: stages keep spans into the source and quote it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=None)
def _char_map(ch: str) -> str:
    out = unicodedata.normalize("NFKC", ch)
    if ch == "\u3000" or out.isspace() and ch != "\t":
        return " " if ch != "\t" else "\t"
    if len(out) == 1 and "\u3400" <= out <= "\u9fff":
        out = _T2S.convert(out)
    return out


class _Table(dict):
    """str.translate table filled lazily with the char map."""

    def __missing__(self, code: int) -> str:
        v = _char_map(chr(code))
        self[code] = v
        return v


_TRANSLATE = _Table()

# Markup removed before character mapping: HTML tags, markdown emphasis/headings/bullets,
# word-processor bookmarks. LaTeX math is rewritten separately.
_MARKUP_RE = re.compile(
    r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"  # HTML tags
    r"|\[bookmark:[^\]]*\]"  # DOCX bookmarks in text dumps
    r"|\*\*"  # markdown bold
    r"|^\s*#{1,6}\s+"  # markdown heading
    r"|^\s*[-*]\s+(?=\S)"  # markdown bullet
)
_MATH_RE = re.compile(r"\$([^$]{1,200})\$")
_LATEX_CMDS = {
    r"\leq": "≤", r"\le": "≤", r"\geq": "≥", r"\ge": "≥", r"\times": "×", r"\div": "÷",
    r"\%": "%", r"\pm": "±", r"\neq": "≠", r"\cdot": "·", r"\sim": "~",
}
_LATEX_TOKEN_RE = re.compile(r"\\[A-Za-z]+|\\%|[{}\s]|.", re.S)


@dataclass(frozen=True)
class NText:
    """Normalized text; `src[i]` is the source offset of character i (or `base + i`)."""

    text: str
    base: int = 0
    src: tuple[int, ...] | None = None

    def offset(self, i: int) -> int:
        if self.src is None:
            return self.base + i
        return self.src[i]

    def source_range(self, i: int = 0, j: int | None = None) -> tuple[int, int]:
        """Source [start, end) covering normalized characters [i, j)."""
        j = len(self.text) if j is None else j
        if j <= i:
            o = self.offset(min(i, len(self.text) - 1)) if self.text else self.base
            return o, o
        return self.offset(i), self.offset(j - 1) + 1

    def __getitem__(self, key: slice) -> "NText":
        i, j, _ = key.indices(len(self.text))
        if self.src is None:
            return NText(self.text[i:j], self.base + i)
        return NText(self.text[i:j], 0, self.src[i:j])

    def __len__(self) -> int:
        return len(self.text)

    def strip(self) -> "NText":
        s = self.text
        if not s or not (s[0].isspace() or s[-1].isspace()):
            return self
        i, j = 0, len(s)
        while i < j and s[i].isspace():
            i += 1
        while j > i and s[j - 1].isspace():
            j -= 1
        return self[i:j]

    def drop(self, pattern: re.Pattern[str] | str) -> "NText":
        """Remove every match of `pattern`, keeping the mapping of what remains."""
        pat = re.compile(pattern) if isinstance(pattern, str) else pattern
        keep_text: list[str] = []
        keep_src: list[int] = []
        last = 0
        for m in pat.finditer(self.text):
            for k in range(last, m.start()):
                keep_text.append(self.text[k])
                keep_src.append(self.offset(k))
            last = m.end()
        if last == 0 and not keep_text:
            if not pat.search(self.text):
                return self
        for k in range(last, len(self.text)):
            keep_text.append(self.text[k])
            keep_src.append(self.offset(k))
        return NText("".join(keep_text), 0, tuple(keep_src))

    def split_fields(self, sep: str) -> list["NText"]:
        out, start = [], 0
        while True:
            k = self.text.find(sep, start)
            if k < 0:
                out.append(self[start:])
                return out
            out.append(self[start:k])
            start = k + len(sep)


def normalize_line(raw: str, base: int) -> NText:
    """Normalize one source line starting at source offset `base`."""
    has_markup = ("<" in raw or "*" in raw or "#" in raw or "[bookmark" in raw
                  or raw.lstrip().startswith(("-", "*")))
    has_math = "$" in raw
    if not has_markup and not has_math:
        mapped = raw.translate(_TRANSLATE)
        if len(mapped) == len(raw):
            return NText(mapped, base)
    return _normalize_slow(raw, base)


def _normalize_slow(raw: str, base: int) -> NText:
    chars: list[str] = []
    src: list[int] = []
    text = NText(raw, base).drop(_MARKUP_RE)
    # LaTeX math segments → plain symbols
    pieces: list[tuple[str, int]] = []
    pos = 0
    for m in _MATH_RE.finditer(text.text):
        pieces.extend((text.text[k], text.offset(k)) for k in range(pos, m.start()))
        for t in _LATEX_TOKEN_RE.finditer(m.group(1)):
            tok = t.group(0)
            at = text.offset(m.start(1) + t.start())
            if tok in _LATEX_CMDS:
                pieces.append((_LATEX_CMDS[tok], at))
            elif tok.startswith("\\") or tok in "{}" or tok.isspace():
                continue
            else:
                pieces.append((tok, at))
        pos = m.end()
    pieces.extend((text.text[k], text.offset(k)) for k in range(pos, len(text.text)))
    for ch, at in pieces:
        for out in _char_map(ch):
            chars.append(out)
            src.append(at)
    return NText("".join(chars), 0, tuple(src))


_NUM_FRAGMENT_RE = re.compile(r"^[\s\d,.\-]*\d[\s\d,.]*$")


def join_number(cell: NText) -> NText:
    """Join a number broken by spaces inside one cell: '5121 0700 .00' → '51210700.00'."""
    t = cell.strip()
    if " " in t.text and _NUM_FRAGMENT_RE.match(t.text):
        return t.drop(r"\s+")
    return t


def compact(text: str) -> str:
    """Whitespace-free form used to match titles and header words."""
    return "".join(text.split())
