"""`structurer batch --backend llm --batch-api` at scale, against the test server's batch API.

    python3 benchmarks/bench_provider_batch.py [--sizes 1000] [--jobs 2] [--root benchmarks/corpus]

For each size: the generated corpus of bench_batch.py (made when missing), and an
OpenAI-compatible server in a child process (tests/openai_server.py: it answers every
request with an empty, valid answer and processes a batch when polled). The batch runs as a
subprocess, sampled every 0.1 s for peak memory. Reported, from the manifest's timestamps:
plan + submit (run start → last batch submitted), the provider's turnaround (→ final, here
near zero: what a real provider takes is its own), collect (→ answers settled into the
cache), structure (→ run end, every answer from the cache); requests, input MB, peak RSS of
the runner and the largest worker, and a rerun with nothing to do.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import corpus, measured  # noqa: E402
from bench_llm import _RemoteServer  # noqa: E402


def _config(folder: Path, base_url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "structurer.toml"
    p.write_text(f"""[llm]
default = "bench"
cache_dir = "{folder / 'cache'}"

[models.bench]
base_url = "{base_url}"
model = "bench-model"
api_key_env = ""
mode = "tools"
""", encoding="utf-8")
    return p


def run(size: int, root: Path, jobs: int) -> dict:
    src = corpus(root, size)
    work = root / f"provider{size}"
    shutil.rmtree(work, ignore_errors=True)
    srv = _RemoteServer(0.0)
    try:
        cfg = _config(work, srv.base_url)
        cmd = [sys.executable, "-m", "structurer", "batch", str(src), "--out", str(work / "out"), "--backend",
               "llm", "--config", str(cfg), "--jobs", str(jobs), "--batch-api", "--poll", "0.5"]
        proc, _, stderr, wall, sampler = measured(cmd)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"batch failed ({proc.returncode}): {stderr[-800:]}")
        t = time.perf_counter()
        again = subprocess.run(cmd, capture_output=True, text=True, check=False)
        rerun = time.perf_counter() - t
        if again.returncode not in (0, 1):
            raise SystemExit(f"rerun failed ({again.returncode}): {again.stderr[-800:]}")
    finally:
        srv.close()
    con = sqlite3.connect(work / "out" / "manifest.sqlite")
    started, finished = con.execute("SELECT started_at, finished_at FROM runs ORDER BY id LIMIT 1").fetchone()
    n, requests, submitted, final, collected, cached, direct = con.execute(
        "SELECT count(*), sum(requests), max(submitted_at), max(final_at), max(collected_at), sum(cached), "
        "sum(rejected + errors + missing) FROM provider_batches").fetchone()
    done = con.execute("SELECT count(*) FROM documents WHERE status='done'").fetchone()[0]
    con.close()
    mb = sum(p.stat().st_size for p in (work / "out" / "provider_batches").glob("*.input.jsonl")) / 2**20
    workers = [p for p in sampler.hwm if p != proc.pid]
    return {"size": size, "done": done, "batches": n, "requests": requests, "cached": cached, "direct": direct,
            "input_mb": mb, "wall": wall, "plan": submitted - started, "provider": final - submitted,
            "collect": collected - final, "structure": finished - collected, "rerun": rerun,
            "runner_mb": sampler.hwm.get(proc.pid, 0) / 1024,
            "worker_mb": max((sampler.hwm[p] for p in workers), default=0) / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--root", type=Path, default=ROOT / "benchmarks" / "corpus")
    args = ap.parse_args()
    rows = [run(n, args.root, args.jobs) for n in args.sizes]
    print(f"\nstructurer batch --backend llm --batch-api --jobs {args.jobs} ({os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f})")
    for r in rows:
        print(f"{r['size']} documents ({r['done']} done): {r['requests']:,} requests in {r['batches']} batch(es), "
              f"{r['input_mb']:.1f} MB; {r['cached']:,} answers cached, {r['direct']} asked directly")
        print(f"  wall {r['wall']:.1f} s = plan+submit {r['plan']:.1f} s ({r['size'] / r['plan']:.1f} docs/s), "
              f"provider {r['provider']:.1f} s, collect {r['collect']:.1f} s "
              f"({r['requests'] / r['collect']:.0f} answers/s), structure from the cache "
              f"{r['structure']:.1f} s ({r['size'] / r['structure']:.1f} docs/s)")
        print(f"  peak RSS: runner {r['runner_mb']:.0f} MB, largest worker {r['worker_mb']:.0f} MB; "
              f"rerun with nothing to do {r['rerun']:.1f} s")


if __name__ == "__main__":
    main()
