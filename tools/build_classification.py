"""Rebuild structurer/data/functional_classification.tsv: the 款 and 项 names of the national
functional classification (支出功能分类科目), as published budgets print them beside their codes.

Usage: python3 tools/build_classification.py PDF_OR_TXT... > structurer/data/functional_classification.tsv

Only rows whose code was printed (not inferred) and that no check flagged are counted; per
code the most frequent spelling comes first, then other spellings seen at least twice that are
not truncations of it (a name cut at a cell edge).
"""
from __future__ import annotations

import collections
import re
import sys

from structurer.ingest import IngestError
from structurer.pipeline import extract_file

_FUNCTIONAL_TABLES = {"general_budget_expenditure", "expenditure", "gov_fund_expenditure",
                      "state_capital_expenditure", "revenue_expenditure_summary", "fiscal_grant_summary"}
_PREFIX = re.compile(r"^(?:[一二三四五六七八九十]+、|\(?[一二三四五六七八九十]+\)|其中[:：])")


def main(paths: list[str]) -> None:
    seen: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in paths:
        try:
            doc = extract_file(path)
        except IngestError as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        for table in doc.tables:
            if table.id not in _FUNCTIONAL_TABLES:
                continue
            for row in table.rows:
                if row.code and len(row.code) in (5, 7) and row.label and not row.suspect:
                    seen[row.code][_PREFIX.sub("", row.label)] += 1
    print("# code\tname (most frequent spelling first)")
    for code in sorted(seen):
        names = seen[code].most_common()
        main_name = names[0][0]
        keep = [main_name] + [n for n, k in names[1:]
                              if k >= 2 and len(n) >= 3 and not main_name.startswith(n)]
        print(code + "\t" + "\t".join(keep))


if __name__ == "__main__":
    main(sys.argv[1:])
