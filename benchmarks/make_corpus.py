"""Generate a realistic corpus of budget disclosures from the five seeds in examples/.

    python3 benchmarks/make_corpus.py --count 1000 --out benchmarks/corpus/c1000 [--seed 0] [--verify 20]

Each generated document is one seed with:
- another agency: the seed's place name (the 市/县/区 part of its agency) replaced by another
  county or district of Hebei / Henan everywhere it is printed (corrupted variants of the
  name stay, as in real documents);
- another year: every printed year shifted by the same offset (−3…+3);
- scaled numbers: every printed amount the seed's extraction reads (table cells in 元/万元,
  narrative amounts and changes, performance-target amounts) multiplied by one integer
  factor and reprinted with its original decimals, thousands separators and inner breaks
  (a number broken over two lines stays broken at the same place). Integer factors keep
  every printed value exact, so each identity that held exactly still holds; a 万元
  document's rounding differences (尾差) grow with the factor, so a factor is used for a
  seed only when the seed scaled by it shows no error-level finding the seed does not
  already have (checked once per seed and factor, by extract + check);
- re-wrapped prose: long prose lines broken after a clause at another width (16–36
  characters), as a narrower page would (table lines stay as they are);
- ~10% of the files encoded GB18030 instead of UTF-8.

The output is laid out as <province>/<year>/<agency>_<预算|决算>_<n>.txt, plus corpus.json
describing every file (seed, factor, agency, year). `--verify N` runs `structurer check
--format json` on N random documents and compares their error-level findings with their
seed's, and compares agency, year and every cell value (× factor) in-process.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from structurer.checks.run import evaluate
from structurer.ingest import read_bytes
from structurer.pipeline import Prepared, extract_prepared, prepare
from structurer.vocab import UNIT_FACTORS

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "examples").glob("*.txt"))

PLACES = {
    "河北": ("威县", "清河县", "临城县", "内丘县", "柏乡县", "隆尧县", "宁晋县", "巨鹿县", "新河县",
             "广宗县", "平乡县", "沙河市", "武安市", "涉县", "磁县", "邱县", "鸡泽县", "广平县",
             "馆陶县", "魏县", "曲周县", "临漳县", "成安县", "大名县", "滦州市", "迁安市", "遵化市",
             "玉田县", "乐亭县", "迁西县", "香河县", "固安县", "永清县", "文安县", "大城县", "霸州市",
             "三河市", "安平县", "故城县", "景县", "阜城县", "饶阳县", "武邑县", "深州市"),
    "河南": ("舞阳县", "临颍县", "召陵区", "源汇区", "南召县", "方城县", "西峡县", "镇平县",
             "内乡县", "淅川县", "社旗县", "唐河县", "新野县", "桐柏县", "邓州市", "杞县", "通许县",
             "尉氏县", "兰考县", "中牟县", "巩义市", "荥阳市", "新密市", "新郑市", "登封市", "宜阳县",
             "洛宁县", "嵩县", "栾川县", "汝阳县", "伊川县", "郏县", "宝丰县", "鲁山县", "叶县",
             "舞钢市", "汝州市", "西平县", "上蔡县", "遂平县", "确山县", "泌阳县", "汝南县"),
}
BUREAU = "医疗保障局"
CANDIDATE_FACTORS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 50)
_NUM_CORE = re.compile(r"^-?[\d,]*\.?\d*$")


# ---------------------------------------------------------------------------- number sites


@dataclass
class Site:
    """A printed number: its pieces in the text (one, or several for a number broken across
    lines) and the printed text the pieces make together ("\\n" between pieces)."""

    pieces: list[tuple[int, int]]
    printed: str


def _cell_pieces(text: str, start: int, end: int, printed: str) -> list[tuple[int, int]] | None:
    if text[start:end] == printed:
        return [(start, end)]
    parts = printed.split("\n")
    if not text.startswith(parts[0], start) or not text[:end].endswith(parts[-1]):
        return None
    out, pos = [(start, start + len(parts[0]))], start + len(parts[0])
    for p in parts[1:-1]:
        i = text.find(p, pos, end - len(parts[-1]))
        if i < 0:
            return None
        out.append((i, i + len(p)))
        pos = i + len(p)
    out.append((end - len(parts[-1]), end))
    return out


def number_sites(text: str, doc) -> list[Site]:
    """Every printed amount the extraction read, located in the text."""
    sites: dict[tuple[int, int], Site] = {}

    def add(pieces, printed):
        if pieces and _NUM_CORE.match(re.sub(r"\s", "", printed)):
            sites.setdefault(pieces[0], Site(pieces, printed))

    for t in doc.tables:
        for r in t.rows:
            for c in r.cells:
                if c.value is None or c.unit not in UNIT_FACTORS:
                    continue
                add(_cell_pieces(text, c.span.start, c.span.end, c.printed), c.printed)
    for f in doc.narrative:
        if f.unit in UNIT_FACTORS:
            add(_cell_pieces(text, f.span.start, f.span.end, f.printed), f.printed)
    for p in doc.performance:
        if p.amount is None or not p.amount_printed:
            continue
        block = text[p.span.start:p.span.end]
        for m in re.finditer(r"(?<![\d.,])" + re.escape(p.amount_printed) + r"(?![\d.,])", block):
            add([(p.span.start + m.start(), p.span.start + m.end())], p.amount_printed)
    return sorted(sites.values(), key=lambda s: s.pieces[0])


def reprint(printed: str, factor: int) -> str:
    """`printed` × factor with the same decimals, separators and inner whitespace."""
    core = re.sub(r"\s", "", printed)
    digits = core.replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    new = Decimal(digits) * factor
    body = format(new, f"{',' if ',' in core else ''}.{decimals}f")
    if core.endswith("."):  # "9162 500." + "00" on the next line: keep the dangling point
        body = body if "." in body else body + "."
    # whitespace (spaces, line breaks) at the same distance from the number's end
    breaks = []
    right = 0
    for ch in reversed(printed):
        if ch.isspace():
            breaks.append((right, ch))
        else:
            right += 1
    out = body
    for right, ch in sorted(breaks, key=lambda b: b[0]):
        cut = len(out) - _offset_from_right(out, right)
        out = out[:cut] + ch + out[cut:]
    return out


def _offset_from_right(s: str, n_nonspace: int) -> int:
    """Characters of `s` from its end that hold the last `n_nonspace` non-space characters."""
    count = i = 0
    while count < n_nonspace and i < len(s):
        i += 1
        if not s[-i].isspace():
            count += 1
    return i


# ---------------------------------------------------------------------------- text variations


_YEAR = re.compile(r"(?<![\d.,])(20[0-3]\d)(?![\d.,%])")


def _shift_years(segment: str, offset: int, year: int) -> str:
    """Shift the years near the document's own (year − 6 … year + 1), standalone numbers only."""
    if not offset:
        return segment

    def one(m: re.Match) -> str:
        y = int(m.group(1))
        return str(y + offset) if year - 6 <= y <= year + 1 else m.group(1)

    return _YEAR.sub(one, segment)


def rewrap(text: str, width: int, keep: frozenset[int] = frozenset()) -> str:
    """Re-break long prose lines at about `width` characters, after a clause (，。；：、), as a
    narrower PDF page would. Lines in `keep` (0-based: the seed's tables) and lines with tabs
    are left alone."""
    out = []
    for i, ln in enumerate(text.split("\n")):
        if i in keep or "\t" in ln or len(ln) <= width or not re.search("[，。；]", ln):
            out.append(ln)
            continue
        line = ""
        for clause in re.findall(r"[^，。；：、]*[，。；：、]?", ln):
            if line and len(line) + len(clause) > width:
                out.append(line)
                line = ""
            line += clause
        out.append(line)
    return "\n".join(out)


def table_lines(doc) -> frozenset[int]:
    """0-based indices of the lines inside the document's tables and performance tables."""
    return frozenset(i for s in doc.sections if s.kind in ("table", "performance")
                     for i in range(s.span.line_start - 1, s.span.line_end))


def render(text: str, sites: list[Site], factor: int, place: tuple[str, str] | None,
           year_offset: int, year: int = 0) -> str:
    """The seed text with numbers scaled, the place replaced and years shifted."""
    pieces = sorted(((a, b, new) for s in sites
                     for (a, b), new in zip(s.pieces, reprint(s.printed, factor).split("\n"))))
    out, pos = [], 0

    def plain(segment: str) -> str:
        if place is not None:
            segment = segment.replace(place[0], place[1])
        return _shift_years(segment, year_offset, year)

    for a, b, new in pieces:
        out.append(plain(text[pos:a]))
        out.append(new)
        pos = b
    out.append(plain(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------------------- seeds


@dataclass
class Seed:
    path: Path
    text: str
    doc: object
    sites: list[Site]
    errors: frozenset[str]  # error-level findings the seed already has
    place: str | None
    factors: tuple[int, ...] = ()


def _errors(doc) -> frozenset[str]:
    return frozenset(r.instance for r in evaluate(doc).findings() if r.severity == "error")


def _cells(doc, factor: int = 1) -> dict[tuple, Decimal | None]:
    """Every cell's value; money (not counts) multiplied by `factor`."""
    out = {}
    for t in doc.tables:
        for i, r in enumerate(t.rows):
            for c in r.cells:
                scale = factor if c.value is not None and c.unit in UNIT_FACTORS else 1
                out[(t.id, i, r.id, c.column)] = None if c.value is None else c.value * scale
    return out


def _doc_of(text: str, name: str):
    return extract_prepared(Prepared(read_bytes(text.encode("utf-8"), name)))


def load_seed(path: Path) -> Seed:
    prep = prepare(path)
    text = path.read_text(encoding="utf-8")
    if prep.source.text != text:
        raise SystemExit(f"{path.name}: ingested text differs from the file; spans would not map")
    doc = extract_prepared(prep)
    agency = doc.meta.agency or ""
    place = agency.split(BUREAU)[0] if BUREAU in agency else None
    return Seed(path, text, doc, number_sites(text, doc), _errors(doc), place or None)


def scaled_ok(seed: Seed, factor: int) -> tuple[bool, str]:
    """Scaling the seed by `factor` keeps every cell (× factor) and adds no error finding."""
    doc = _doc_of(render(seed.text, seed.sites, factor, None, 0), seed.path.name)
    base, got = _cells(seed.doc, factor), _cells(doc)
    if base.keys() != got.keys():
        return False, f"cells differ ({len(base)} vs {len(got)})"
    bad = [k for k, v in base.items() if v != got[k]]
    if bad:
        return False, f"{len(bad)} cells not scaled exactly, e.g. {bad[0]}"
    new = _errors(doc) - seed.errors
    return (not new), (f"new error findings: {sorted(new)[:3]}" if new else "ok")


def accept_factors(seed: Seed, candidates=CANDIDATE_FACTORS) -> tuple[int, ...]:
    return tuple(k for k in candidates if scaled_ok(seed, k)[0])


# ---------------------------------------------------------------------------- corpus


def generate(count: int, out: Path, rng_seed: int = 0, gbk_share: float = 0.1,
             candidates=CANDIDATE_FACTORS, log=print) -> list[dict]:
    rng = random.Random(rng_seed)
    seeds = [load_seed(p) for p in SEEDS]
    for s in seeds:
        s.factors = accept_factors(s, candidates)
        log(f"{s.path.name}: {len(s.sites)} printed amounts, place {s.place}, "
            f"factors {', '.join(map(str, s.factors))}")
    places = [(prov, p) for prov, names in PLACES.items() for p in names]
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(count):
        seed = seeds[i % len(seeds)]
        province, new_place = rng.choice(places)
        factor = rng.choice(seed.factors)
        year = (seed.doc.meta.year or 2023)
        offset = rng.randint(-3, 3)
        width = rng.choice((0, 16, 20, 24, 30, 36))
        text = render(seed.text, seed.sites, factor,
                      (seed.place, new_place) if seed.place else None, offset, year)
        if width:
            text = rewrap(text, width, table_lines(seed.doc))
        encoding = "gb18030" if rng.random() < gbk_share else "utf-8"
        agency = (seed.doc.meta.agency.replace(seed.place, new_place, 1) if seed.place
                  else seed.doc.meta.agency)
        kind = "决算" if seed.doc.meta.kind == "final" else "预算"
        rel = f"{province}/{year + offset}/{agency}_{kind}_{i:05d}.txt"
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(encoding))
        records.append({"path": rel, "seed": seed.path.name, "factor": factor, "agency": agency,
                        "year": year + offset, "wrap": width, "encoding": encoding})
    (out / "corpus.json").write_text(json.dumps(records, ensure_ascii=False, indent=0), encoding="utf-8")
    return records


def verify(out: Path, records: list[dict], n: int, rng_seed: int = 1, log=print) -> bool:
    """`structurer check` on a sample: no error-level finding the seed does not have; and
    in-process: agency, year and every cell value = seed value × factor."""
    rng = random.Random(rng_seed)
    sample = rng.sample(records, min(n, len(records)))
    seeds = {p.name: load_seed(p) for p in SEEDS}
    proc = subprocess.run([sys.executable, "-m", "structurer", "check", "--format", "json",
                           *[str(out / r["path"]) for r in sample]], capture_output=True, text=True)
    reports = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    ok = len(reports) == len(sample)
    if not ok:
        log(f"structurer check gave {len(reports)} reports for {len(sample)} files: {proc.stderr[-300:]}")
    notes = {"narrative facts lost to re-wrapping": 0, "agency misread": 0}
    for rec, rep in zip(sample, reports):
        seed = seeds[rec["seed"]]
        errors = {r["instance"] for r in rep["results"] if r["status"] == "fail" and r["severity"] == "error"}
        doc = extract_prepared(prepare(out / rec["path"]))
        base, got = _cells(seed.doc, rec["factor"]), _cells(doc)
        problems, remarks = [], []
        if errors - seed.errors:
            problems.append(f"new error findings {sorted(errors - seed.errors)[:3]}")
        if base.keys() != got.keys():
            problems.append(f"cells {len(got)} vs seed {len(base)}")
        elif any(v != got[k] for k, v in base.items()):
            problems.append("cell values are not seed × factor")
        if doc.meta.year != rec["year"]:
            problems.append(f"year {doc.meta.year} (expected {rec['year']})")
        # Not defects of the corpus but of the extraction on it (reported, not failed):
        if len(doc.narrative) != len(seed.doc.narrative):
            notes["narrative facts lost to re-wrapping"] += 1
            remarks.append(f"narrative facts {len(doc.narrative)} vs seed {len(seed.doc.narrative)}")
        if seed.place and doc.meta.agency != rec["agency"]:
            notes["agency misread"] += 1
            remarks.append(f"agency read as {doc.meta.agency}")
        ok = ok and not problems
        status = "; ".join(problems) if problems else "ok"
        log(f"  {rec['path']} (seed {rec['seed'][:3]}, ×{rec['factor']}, wrap {rec['wrap']}, "
            f"{rec['encoding']}): {len(errors)} error findings — {status}"
            + (f" (note: {'; '.join(remarks)})" if remarks else ""))
    log(f"verify: {len(sample)} documents, `structurer check` exit {proc.returncode}: "
        f"{'no new error-level finding, every cell = seed × factor, years right' if ok else 'PROBLEMS'}")
    log("extraction notes: " + ", ".join(f"{k}: {v}/{len(sample)}" for k, v in notes.items()))
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "corpus" / "c1000")
    ap.add_argument("--seed", type=int, default=0, help="random seed")
    ap.add_argument("--verify", type=int, default=0, metavar="N", help="check N random documents")
    args = ap.parse_args()
    t = time.perf_counter()
    records = generate(args.count, args.out, args.seed)
    print(f"wrote {len(records)} documents to {args.out} in {time.perf_counter() - t:.1f} s")
    if args.verify and not verify(args.out, records, args.verify):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
