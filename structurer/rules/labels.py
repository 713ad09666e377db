"""Row labels: what a printed label is (text, not a number) and which canonical row it names."""
from __future__ import annotations

import re

from .. import vocab
from ..vocab import NUM_RE

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def _is_label(text: str) -> bool:
    t = text.strip()
    return bool(t) and bool(_CJK_RE.search(t)) and not NUM_RE.match(t)


def _match_rows(label: str, table: tuple[tuple[str, str], ...]) -> str | None:
    lab = vocab.strip_ordinal(label)
    if lab.startswith("其中:"):  # 其中:(一)因公出国(境)支出
        lab = vocab.strip_ordinal(lab[3:])
    for key, pat in table:
        if re.search(pat, lab):
            return key
    return None
