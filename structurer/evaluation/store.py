"""Runs on disk: every eval is saved under `evals/runs/<id>/` (git-ignored).

    evals/runs/<id>/
      config.json     what was run: columns (backend, model), models seen, prompt versions,
                      git commit (+ dirty flag), time, gold folder and the sha256 of every
                      gold file, sources folder, --docs glob, structurer version
      results.json    config + every column's scores, per document, with every cell outcome
      report.md       the Markdown report
      documents/<column>/<doc stem>.json   what each column extracted (document model)

`<id>` is `YYYYmmdd-HHMMSS-<columns>` (UTC), made unique with a counter.
"""
from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..output import document_json, write_atomic
from .runner import FORMAT, EvalError, EvalRun

DEFAULT_RUNS = Path("evals") / "runs"


def git_info(where: Path | None = None) -> dict:
    """Commit and dirty flag of the checkout holding the code (None outside git)."""
    where = where or Path(__file__).resolve().parent
    info = {"commit": None, "dirty": None}
    try:
        head = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode == 0:
            info["commit"] = head.stdout.strip()
            st = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=30)
            info["dirty"] = bool(st.stdout.strip()) if st.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def now() -> datetime:
    return datetime.now(timezone.utc)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def new_run_id(runs_dir: Path, columns: list[str], when: datetime) -> str:
    base = f"{when:%Y%m%d-%H%M%S}-{slug('+'.join(columns))[:60]}"
    rid, n = base, 1
    while (runs_dir / rid).exists():
        n += 1
        rid = f"{base}-{n}"
    return rid


def save_run(run: EvalRun, runs_dir: Path, render: Callable[[dict], str]) -> Path:
    """Write the run folder; returns it. The run's id is set in run.data before `render`
    makes the Markdown report from it."""
    runs_dir = Path(runs_dir)
    when = datetime.fromisoformat(run.data["config"]["time"]) if run.data["config"].get("time") else now()
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        rid = new_run_id(runs_dir, list(run.data["columns"]), when)
        folder = runs_dir / rid
        folder.mkdir()
    except OSError as e:
        raise EvalError(f"--runs: cannot create a run folder in {runs_dir}: {e.strerror or e}") from e
    run.data["id"] = rid
    write_atomic(folder / "config.json", json.dumps({"id": rid, **run.data["config"]}, ensure_ascii=False,
                                                    indent=1) + "\n")
    write_atomic(folder / "results.json", json.dumps(run.data, ensure_ascii=False) + "\n")
    write_atomic(folder / "report.md", render(run.data))
    for col, docs in run.documents.items():
        for name, doc in docs.items():
            write_atomic(folder / "documents" / slug(col) / f"{Path(name).stem}.json", document_json(doc))
    return folder


def resolve_run(ref: str, runs_dir: Path) -> Path:
    """A run given as a folder, a results.json, or an id under runs_dir."""
    p = Path(ref)
    for cand in (p, p / "results.json", Path(runs_dir) / ref / "results.json"):
        if cand.is_file() and cand.name == "results.json":
            return cand
    raise EvalError(f"{ref}: no such run (give a run id under {runs_dir} or a run folder)")


def load_run(ref: str, runs_dir: Path = DEFAULT_RUNS) -> dict:
    path = resolve_run(ref, runs_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EvalError(f"{ref}: cannot read {path}: {' '.join(str(e).split())[:160]}") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("columns"), dict):
        raise EvalError(f"{ref}: {path} is not a structurer eval run ({FORMAT})")
    data.setdefault("id", path.parent.name)
    return data
