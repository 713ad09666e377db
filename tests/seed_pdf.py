"""PDFs with findings for the page-view and repair tests, drawn by reportlab
(tests/render_seed.py) from seed 000: the whole seed with one printed digit changed (see
test_repair.mutated_seed; its 16-column tables wrap some numbers, which the reader misreads),
and its 一般公共预算财政拨款支出表 alone with one printed digit changed (read cleanly)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from render_seed import render_pdf
from test_repair import SEED

from conftest import EXAMPLES


@lru_cache(maxsize=1)
def _pdf_bytes() -> bytes:
    lines = (EXAMPLES / SEED).read_text(encoding="utf-8").split("\n")
    lines[203] = lines[203].replace("5121070 0.00", "5121970 0.00", 1)
    return render_pdf("\n".join(lines))


def mutated_pdf(folder: Path, name: str = "m000.pdf") -> Path:
    path = folder / name
    path.write_bytes(_pdf_bytes())
    return path



@lru_cache(maxsize=1)
def _one_table_bytes() -> bytes:
    lines = (EXAMPLES / SEED).read_text(encoding="utf-8").split("\n")
    text = lines[:8] + lines[342:379]  # the title page's first lines and the table
    k = next(i for i, line in enumerate(text) if line.startswith("12\t2101501"))
    text[k] = text[k].replace("3701000.00", "3707000.00", 1)
    return render_pdf("\n".join(text))


def one_table_pdf(folder: Path, name: str = "gbe.pdf") -> Path:
    """2101501's total printed 3707000.00 where its parts and its parent say 3701000.00."""
    path = folder / name
    path.write_bytes(_one_table_bytes())
    return path
