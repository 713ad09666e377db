"""Throughput and peak memory of `structurer batch` (rules backend) on generated corpora and
on the real PDFs, for each engine.

    python3 benchmarks/bench_batch.py [--sizes 200 1000] [--jobs 2] [--engines local dask] [--repeat 3]
    python3 benchmarks/bench_batch.py --pdf [--engines local dask]

For each size: generates the corpus with make_corpus.py when it is not there yet (under the
git-ignored benchmarks/corpus/; 200 = the five seeds × 40 under new names), runs
`structurer batch CORPUS --out OUT --jobs N --engine E` in a fresh output folder as a
subprocess (`--engine dask`: a LocalCluster of N worker processes), and samples /proc every
0.1 s for the whole process tree (runner, fork server or cluster, workers). With --repeat
the engines take turns and each one's fastest run is shown (the machine may be shared).
Reports:

- docs/s (wall): documents done / wall time of the command, start-up included;
- docs/s (steady): from the manifest, between the first start and the last finish;
- docs/s per core-s × jobs: documents / CPU seconds of the whole tree × jobs — what the run
  would reach with `jobs` cores to itself (the machine may be shared: load average shown);
- peak RSS: the runner's and the largest worker's high-water marks (VmHWM), and the peak of
  the tree's summed RSS. Flat memory = the same peaks at both sizes;
- the rerun (everything already done) and `structurer export --duckdb` times.

--pdf: the dev corpus ($STRUCTURER_CORPUS or ../shared/corpus, pdf/*/*.pdf). First every PDF
is structured one after another in one warm process (the same worker code), which gives the
accepted ones and the single-document CPU rate (accepted documents / their CPU seconds);
then the accepted PDFs are batched end to end with `--jobs N`. Target: the batch's wall
rate against single-document CPU rate × N.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

_TICK = os.sysconf("SC_CLK_TCK")


def _ppid_map() -> dict[int, int]:
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as f:
                    stat = f.read().rsplit(b")", 1)[1].split()
                out[int(d)] = int(stat[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in _ppid_map().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def _status(pid: int) -> dict[str, int]:
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                vals[k] = int(v.split()[0])  # kB
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read().rsplit(b")", 1)[1].split()
    vals["cpu"] = (int(stat[11]) + int(stat[12])) / _TICK  # utime + stime
    return vals


class Sampler(threading.Thread):
    """Peak memory and CPU time of a process tree, sampled every `interval` seconds."""

    def __init__(self, root: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.hwm: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.peak_sum = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            total = 0
            for pid in _tree(self.root):
                try:
                    s = _status(pid)
                except (OSError, IndexError, ValueError):
                    continue
                total += s.get("VmRSS", 0)
                self.hwm[pid] = max(self.hwm.get(pid, 0), s.get("VmHWM", 0))
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), s["cpu"])
            self.peak_sum = max(self.peak_sum, total)
            time.sleep(self.interval)


def corpus(root: Path, size: int) -> Path:
    folder = root / f"c{size}"
    meta = folder / "corpus.json"
    if meta.exists() and len(json.loads(meta.read_text(encoding="utf-8"))) == size:
        return folder
    import make_corpus

    shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    make_corpus.generate(size, folder, log=lambda *_: None)
    print(f"generated {size} documents in {folder} ({time.perf_counter() - t:.1f} s)")
    return folder


def measured(cmd: list[str]) -> tuple[subprocess.Popen, str, str, float, Sampler]:
    """Run `cmd` to its end, sampling its process tree: (process, stdout, stderr, wall s, sampler)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t
    sampler.stop_flag.set()
    sampler.join()
    return proc, stdout, stderr, wall, sampler


def run(size: int, root: Path, jobs: int, engine: str = "local", src: Path | None = None,
        export: bool = True) -> dict:
    src = src or corpus(root, size)
    out = root / f"out{size}-{engine}"
    shutil.rmtree(out, ignore_errors=True)
    load0 = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "structurer", "batch", str(src), "--out", str(out), "--jobs", str(jobs),
           "--engine", engine]
    proc, _, stderr, wall, sampler = measured(cmd)
    load1 = os.getloadavg()[0]
    if proc.returncode not in (0, 1):
        raise SystemExit(f"batch failed ({proc.returncode}): {stderr[-500:]}")
    con = sqlite3.connect(out / "manifest.sqlite")
    done, failed = (con.execute(f"SELECT count(*) FROM documents WHERE status='{s}'").fetchone()[0]
                    for s in ("done", "failed"))
    first, last = con.execute("SELECT min(started_at), max(finished_at) FROM documents").fetchone()
    stages = con.execute("SELECT avg(prepare_ms), avg(extract_ms), avg(check_ms), avg(write_ms), "
                         "avg(total_ms) FROM documents WHERE status='done'").fetchone()
    con.close()
    workers = [p for p in sampler.hwm if p != proc.pid]
    cpu = sum(sampler.cpu.values())
    row = {"size": size, "engine": engine, "done": done, "failed": failed, "wall": wall, "cpu": cpu,
           "rate_wall": done / wall, "rate_cpu": done / cpu * jobs if cpu else 0.0, "load": (load0, load1),
           "rate_steady": (done - 1) / (last - first) if last and first and last > first else 0.0}
    if not export:
        return row
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=False)
    rerun = time.perf_counter() - t
    db = root / f"out{size}.duckdb"
    ex, _, ex_err, export_s, ex_sampler = measured([sys.executable, "-m", "structurer", "export", str(out),
                                                    "--duckdb", str(db)])
    if ex.returncode:
        raise SystemExit(f"export failed: {ex_err[-500:]}")
    return {
        **row,
        "size": size, "done": done, "failed": failed, "wall": wall,
        "rate_wall": done / wall, "rate_steady": (done - 1) / (last - first),
        "rate_cpu": done / cpu * jobs if cpu else 0.0, "cpu": cpu,
        "runner_hwm": sampler.hwm.get(proc.pid, 0) / 1024,
        "worker_hwm": max((sampler.hwm[p] for p in workers), default=0) / 1024,
        "tree_peak": sampler.peak_sum / 1024, "processes": len(sampler.hwm),
        "rerun": rerun, "export": export_s, "duckdb_mb": db.stat().st_size / 2**20,
        "export_hwm": max(ex_sampler.hwm.values(), default=0) / 1024,
        "stages_ms": [round(x, 1) for x in stages], "load": (load0, load1),
    }


def best_of(size: int, root: Path, jobs: int, engines: list[str], repeat: int, src: Path | None = None,
            export: bool = True) -> list[dict]:
    """Each engine's fastest of `repeat` runs (engines take turns, so both meet the same load)."""
    best: dict[str, dict] = {}
    for i in range(repeat):
        for engine in engines:
            r = run(size, root, jobs, engine, src, export and i == 0)
            if engine not in best or r["rate_wall"] > best[engine]["rate_wall"]:
                best[engine] = {**best.get(engine, {}), **r}
    return [best[e] for e in engines]


def single_document_rates(files: list[Path], work: Path) -> tuple[list[Path], float, int]:
    """Structure each file in this process, one after another, warm: (accepted files, their CPU
    seconds, their pages)."""
    from structurer.batch.worker import process, warm

    warm()
    accepted, cpu, pages = [], 0.0, 0
    for i, f in enumerate(files):
        t = time.process_time()
        res = process({"rel": f.name, "path": str(f), "output": str(work / f"{i}.json"), "backend": "rules"})
        spent = time.process_time() - t
        if res["status"] == "done":
            accepted.append(f)
            cpu += spent
            pages += res.get("pages") or 0
    return accepted, cpu, pages


def pdf_bench(root: Path, jobs: int, engines: list[str], repeat: int) -> None:
    from bench_pdf import corpus_files

    files = corpus_files()
    if not files:
        print("corpus absent ($STRUCTURER_CORPUS or ../shared/corpus): nothing to measure")
        return
    work = root / "pdf-single"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    accepted, cpu, pages = single_document_rates(files, work)
    single_wall = time.perf_counter() - t
    src = root / "pdf-accepted"
    shutil.rmtree(src, ignore_errors=True)
    for f in accepted:  # the accepted PDFs, under their city folders (links: discovery follows them)
        (src / f.parent.name).mkdir(parents=True, exist_ok=True)
        (src / f.parent.name / f.name).symlink_to(f.resolve())
    rate1 = len(accepted) / cpu
    print(f"\n{len(files)} PDFs, {len(accepted)} accepted ({pages:,} pages): one at a time in one warm "
          f"process {cpu:.1f} CPU s ({single_wall:.1f} s wall, load {load0:.1f}) = {rate1:.3f} docs per CPU-s, "
          f"{pages / cpu:.1f} pages per CPU-s; × {jobs} cores = {rate1 * jobs:.3f} docs/s target")
    rows = best_of(len(accepted), root, jobs, engines, repeat, src=src, export=False)
    print(f"{'engine':>7} {'done':>5} {'wall s':>7} {'docs/s':>7} {'pages/s':>8} {'of target':>9} "
          f"{'core-norm':>9} {'CPU s':>6} {'load':>10}")
    for r in rows:
        print(f"{r['engine']:>7} {r['done']:>5} {r['wall']:>7.1f} {r['rate_wall']:>7.3f} "
              f"{pages / r['wall']:>8.1f} {r['rate_wall'] / (rate1 * jobs):>9.0%} "
              f"{r['rate_cpu'] / (rate1 * jobs):>9.0%} {r['cpu']:>6.1f} {r['load'][0]:>4.1f}→{r['load'][1]:<4.1f}")
    print("of target: wall docs/s / (single-document CPU rate × jobs); core-norm: the same with the "
          "batch's own CPU seconds (what it reaches with the cores to itself)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--engines", nargs="+", default=["local"], choices=["local", "dask"])
    ap.add_argument("--repeat", type=int, default=1, help="runs per engine; the fastest is shown")
    ap.add_argument("--pdf", action="store_true", help="the dev corpus's accepted PDFs instead")
    ap.add_argument("--root", type=Path, default=ROOT / "benchmarks" / "corpus")
    args = ap.parse_args()
    if args.pdf:
        pdf_bench(args.root, args.jobs, args.engines, args.repeat)
        return
    rows = [r for n in args.sizes for r in best_of(n, args.root, args.jobs, args.engines, args.repeat)]
    print(f"\nstructurer batch --backend rules --jobs {args.jobs} ({os.cpu_count()} CPUs)")
    head = (f"{'docs':>6} {'engine':>6} {'done':>6} {'failed':>6} {'wall s':>7} {'docs/s':>7} {'steady':>7} "
            f"{'core-norm':>9} {'runner MB':>9} {'worker MB':>9} {'tree MB':>8} {'rerun s':>7} "
            f"{'export s':>8} {'load':>10}")
    print(head)
    for r in rows:
        print(f"{r['size']:>6} {r['engine']:>6} {r['done']:>6} {r['failed']:>6} {r['wall']:>7.1f} "
              f"{r['rate_wall']:>7.1f} {r['rate_steady']:>7.1f} {r['rate_cpu']:>9.1f} {r['runner_hwm']:>9.0f} "
              f"{r['worker_hwm']:>9.0f} {r['tree_peak']:>8.0f} {r['rerun']:>7.1f} {r['export']:>8.1f} "
              f"{r['load'][0]:>4.1f}→{r['load'][1]:<4.1f}")
    for r in rows:
        p, e, c, w, t = r["stages_ms"]
        print(f"{r['size']} docs, {r['engine']}: per document prepare {p} ms, extract {e} ms, check {c} ms, "
              f"write {w} ms, total {t} ms (wall, in a worker); {r['cpu']:.0f} CPU s in "
              f"{r['processes']} processes; export peak {r['export_hwm']:.0f} MB, DuckDB file "
              f"{r['duckdb_mb']:.1f} MB")
    by = {(r["size"], r["engine"]): r for r in rows}
    for n in args.sizes:
        if (n, "local") in by and (n, "dask") in by:
            print(f"{n} docs: dask / local = {by[(n, 'dask')]['rate_wall'] / by[(n, 'local')]['rate_wall']:.0%} "
                  f"(wall), {by[(n, 'dask')]['rate_cpu'] / by[(n, 'local')]['rate_cpu']:.0%} (core-norm)")
    print("docs/s: done / wall time; steady: first start → last finish; core-norm: done / CPU "
          "seconds × jobs (the rate with the cores to itself). MB: peak resident (VmHWM); tree: "
          "peak of the summed RSS of all batch processes.")


if __name__ == "__main__":
    main()
