"""The same code on re-wrapped, re-spaced, GBK-encoded and traditional-character variants of the
seeds gives the same sections and the same cells."""
from __future__ import annotations

import re

import opencc
import pytest

from conftest import EXAMPLES, SEEDS, extracted
from structurer.pipeline import extract_file
from structurer.score import document_cells

_S2T = opencc.OpenCC("s2t")


def rewrap(text: str, width: int = 23) -> str:
    """Break prose lines (sentences, not positioned table rows) at another width."""
    out = []
    for ln in text.split("\n"):
        if "\t" not in ln and len(ln) > 40 and re.search("[，。；]", ln):
            out.extend(ln[i:i + width] for i in range(0, len(ln), width))
        else:
            out.append(ln)
    return "\n".join(out)


VARIANTS = {
    "tabs_to_4_spaces": (lambda t: t.replace("\t", "    "), "utf-8"),
    "tabs_to_2_spaces": (lambda t: t.replace("\t", "  "), "utf-8"),
    "rewrapped": (rewrap, "utf-8"),
    "traditional": (lambda t: _S2T.convert(t), "utf-8"),
    "gbk": (lambda t: t, "gb18030"),
    "crlf_bom": (lambda t: "\ufeff" + t.replace("\n", "\r\n"), "utf-8"),
}


def sections(doc):
    return sorted((s.id, s.kind) for s in doc.sections if s.kind != "narrative")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", SEEDS)
def test_variant_gives_same_sections_and_cells(tmp_path, name, variant):
    transform, encoding = VARIANTS[variant]
    base = extracted(name)
    path = tmp_path / name
    path.write_bytes(transform((EXAMPLES / name).read_text(encoding="utf-8")).encode(encoding))
    doc = extract_file(path)
    assert sections(doc) == sections(base)
    got, want = document_cells(doc), document_cells(base)
    assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) ^ set(want) | {
        k for k in want if got.get(k) != want[k]}}
    assert doc.meta.agency == base.meta.agency and doc.meta.year == base.meta.year


def test_gbk_text_is_detected():
    from structurer.ingest import read_bytes

    src = read_bytes((EXAMPLES / SEEDS[0]).read_text(encoding="utf-8").encode("gbk"), "x.txt")
    assert src.encoding.lower().replace("-", "") in ("gb18030", "gbk", "gb2312")
