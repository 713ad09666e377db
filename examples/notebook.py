# %% [markdown]
# # 三公 expenses per agency, from a folder of disclosures
# Run as a script (`python3 examples/notebook.py [FOLDER] [OUT.svg]`) or cell by cell in
# Jupyter / VS Code (`# %%` cells). Needs only the project's own install.

# %%
import sys
from pathlib import Path

import pandas as pd

import structurer

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
chart = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("three_public.svg")

# %% extract every disclosure in the folder; a file that is not one is reported and skipped
docs = []
for path in sorted(folder.iterdir()):
    if path.suffix.lower() not in (".pdf", ".docx", ".txt"):
        continue
    try:
        docs.append(structurer.extract(path))
    except structurer.InputRefused as e:
        print(f"skipped {path.name}: {e}")

# %% one DataFrame of every cell, then the 三公 totals per agency (exact Decimal values in 元)
cells = pd.concat([d.cells().assign(agency=d.meta.agency, year=d.meta.year) for d in docs])
tp = cells[(cells.table == "three_public") & (cells.row == "total")]
per_agency = (tp.assign(yuan=tp.value.map(float))
              .groupby(["agency", "year"])["yuan"].max().sort_values(ascending=False))
print(per_agency.to_string())

# %% a bar chart as a self-contained SVG (no plotting library needed)
width, bar, gap = 640, 22, 8
top = max(per_agency.max(), 1.0)
rows = []
for i, ((agency, year), yuan) in enumerate(per_agency.items()):
    y = 10 + i * (bar + gap)
    w = int((width - 260) * yuan / top)
    rows.append(f'<text x="0" y="{y + 15}" font-size="12">{agency} {year}</text>'
                f'<rect x="250" y="{y}" width="{w}" height="{bar}" fill="#4a7ab5"/>'
                f'<text x="{256 + w}" y="{y + 15}" font-size="12">{yuan / 10000:,.2f} 万元</text>')
height = 20 + len(rows) * (bar + gap)
chart.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
                 + "".join(rows) + "</svg>", encoding="utf-8")
print(f"chart: {chart}")
