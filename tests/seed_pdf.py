"""A PDF with findings for the page-view tests: seed 000 with one printed digit changed (see
test_repair.mutated_seed), drawn by reportlab (tests/render_seed.py)."""
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

