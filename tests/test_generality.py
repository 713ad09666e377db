"""The same code on re-wrapped, re-spaced, GBK-encoded and traditional-character variants of the
seeds gives the same sections and the same cells."""
from __future__ import annotations

import re

import opencc
import pytest

from conftest import EXAMPLES, SEEDS, extracted
from structurer.pipeline import extract_file
from structurer.evaluation.cells import document_cells

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


def rewrap_random(text: str, seed: int = 7) -> str:
    """Every prose line broken at random widths of 16–36 characters (PDF text at another width)."""
    import random

    rng = random.Random(seed)
    out = []
    for ln in text.split("\n"):
        if "\t" not in ln and re.search("[，。；]", ln) and len(ln) > 16:
            i = 0
            while i < len(ln):
                w = rng.randint(16, 36)
                out.append(ln[i:i + w])
                i += w
        else:
            out.append(ln)
    return "\n".join(out)


VARIANTS = {
    "tabs_to_4_spaces": (lambda t: t.replace("\t", "    "), "utf-8"),
    "tabs_to_2_spaces": (lambda t: t.replace("\t", "  "), "utf-8"),
    "rewrapped": (rewrap, "utf-8"),
    "rewrapped_random": (rewrap_random, "utf-8"),
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
    facts = lambda d: sorted((f.key, f.kind, f.value) for f in d.narrative)  # noqa: E731
    assert facts(doc) == facts(base)


def test_gbk_text_is_detected():
    from structurer.ingest import read_bytes

    src = read_bytes((EXAMPLES / SEEDS[0]).read_text(encoding="utf-8").encode("gbk"), "x.txt")
    assert src.encoding.lower().replace("-", "") in ("gb18030", "gbk", "gb2312")


@pytest.mark.parametrize("county", ["磁县医疗保障局", "涉县财政局"])
def test_one_character_county_names(tmp_path, county):
    """A county named by one character (磁县) is an agency like any other."""
    text = (EXAMPLES / SEEDS[0]).read_text(encoding="utf-8")
    base = extracted(SEEDS[0]).meta.agency
    path = tmp_path / "county.txt"
    path.write_text(text.replace(base, county), encoding="utf-8")
    assert extract_file(path).meta.agency == county
