"""The eval matrix for rules plus two models served by the in-process OpenAI-compatible test
server (tests/openai_server.py), through the real `llm` backend:

- `perfect` answers every table and prose chunk with the gold (openai_server.GoldModel);
- `flawed` answers the same, except for three realistic errors derived from the gold file:
  two columns of one row swapped, one row dropped, one digit of one value misread.

The matrix must show the differences exactly where they are, cell by cell: the swapped
cells wrong, the dropped row's cells missing, the misread value missing (grounding finds it
is not printed, sends it back twice, then rejects it) — and nothing else.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import EXAMPLES, GOLD, SEEDS
from openai_server import GoldModel, OpenAIServer
from structurer import vocab
from structurer.cli import app
from structurer.ingest import read_source

PERFECT, FLAWED = "perfect-model", "flawed-model"


def _squeeze(text: str) -> str:
    return "".join(text.split())


class Router:
    """Sends each request to the scripted model of the seed whose numbered lines it shows
    (most lines equal at the same line numbers); records any request it cannot tell apart."""

    def __init__(self, models: dict[str, GoldModel]):
        self.models = models
        self.lines = {s: [_squeeze(x) for x in read_source(EXAMPLES / s).text.split("\n")] for s in models}
        self.ambiguous: list[tuple] = []

    def score(self, seed: str, shown: dict[int, str]) -> int:
        src = self.lines[seed]
        return sum(1 for n, t in shown.items()
                   if 0 < n <= len(src) and src[n - 1] and _squeeze(t).startswith(src[n - 1][:20]))

    def __call__(self, req):
        shown = req.numbered_lines()
        ranked = sorted(((self.score(s, shown), s) for s in self.models), reverse=True)
        if len(ranked) > 1 and ranked[0][0] <= ranked[1][0]:
            self.ambiguous.append((req.user.splitlines()[0], ranked[:2]))
        return self.models[ranked[0][1]](req)


# ------------------------------------------------------------------ the flawed model's errors

def plan_errors(gold_path: Path) -> dict:
    """Pick, from the gold file, one row whose two columns to swap, one row to drop and one
    value to misread, each in a different coded table; with the cells each error must
    spoil: {key: expected status}."""
    g = yaml.safe_load(gold_path.read_text(encoding="utf-8"))
    tables = [(tid, t) for tid, t in (g.get("tables") or {}).items()
              if tid in vocab.CODED_TABLES and (t or {}).get("rows")]
    plan: dict = {"expect": {}}
    used: set[str] = set()
    for tid, t in tables:  # swap: two columns with different values on one coded row
        for rid, cols in t["rows"].items():
            vals = list(cols.items())
            pair = next(((a, b) for i, a in enumerate(vals) for b in vals[i + 1:]
                         if _plain(a[1]) != _plain(b[1])), None)
            if rid != "total" and pair:
                plan["swap"] = (tid, str(rid), pair[0][0], pair[1][0])
                plan["expect"].update({(tid, str(rid), pair[0][0]): "wrong", (tid, str(rid), pair[1][0]): "wrong"})
                used.add(tid)
                break
        if "swap" in plan:
            break
    for tid, t in tables:  # drop: a whole coded row of another table
        if tid in used:
            continue
        rid, cols = next(((r, c) for r, c in t["rows"].items() if r != "total" and c), (None, None))
        if rid is not None:
            plan["drop"] = (tid, str(rid))
            plan["expect"].update({(tid, str(rid), c): "missing" for c in cols})
            used.add(tid)
            break
    for tid, t in tables:  # misread: one digit of one value of a third table
        if tid in used:
            continue
        hit = next(((r, c, v) for r, cs in t["rows"].items() if r != "total" for c, v in cs.items()
                    if re.search(r"\d\.\d\d$", str(v)) and len(_plain(v)) >= 4 and _nonzero(v)), None)
        if hit:
            rid, col, v = hit
            v = str(v)
            k = v.rindex(".") - 1  # the units digit
            plan["misread"] = (tid, str(rid), col, v, v[:k] + str((int(v[k]) + 3) % 10) + v[k + 1:])
            plan["expect"][(tid, str(rid), col)] = "missing"
            break
    return plan


def _nonzero(v) -> bool:
    return any(ch in "123456789" for ch in str(v))


def _plain(v) -> str:
    return str(v).replace(",", "").replace(" ", "")


def flawed_mutation(plan: dict):
    def mutate(table: str, row: dict) -> dict:
        row = json.loads(json.dumps(row))
        if plan.get("drop") == (table, row["id"]):
            row["cells"] = []
        swap = plan.get("swap")
        if swap and swap[:2] == (table, row["id"]):
            a = next(c for c in row["cells"] if c["col"] == swap[2])
            b = next(c for c in row["cells"] if c["col"] == swap[3])
            a["col"], b["col"] = b["col"], a["col"]
        mis = plan.get("misread")
        if mis and mis[:2] == (table, row["id"]):
            for c in row["cells"]:
                if c["col"] == mis[2]:
                    c["text"], c["value"] = mis[4], _plain(mis[4])
        return row
    return mutate


# ------------------------------------------------------------------ the run

def eval_matrix(tmp_path: Path, seeds: list[str], again: bool):
    """Run the eval (human output + Markdown), and with `again` a second time (--json) to see
    it served from the cache. Returns (human result, first run data, second run data, plans)."""
    perfect = Router({s: GoldModel(GOLD / s.replace(".txt", ".yaml")) for s in seeds})
    plans = {s: plan_errors(GOLD / s.replace(".txt", ".yaml")) for s in seeds}
    flawed = Router({s: GoldModel(GOLD / s.replace(".txt", ".yaml"), mutate=flawed_mutation(plans[s]))
                     for s in seeds})
    glob = seeds[0] if len(seeds) == 1 else "*.txt"
    with OpenAIServer(lambda req: (perfect if req.body.get("model") == PERFECT else flawed)(req)) as srv:
        cfg = tmp_path / "structurer.toml"
        cfg.write_text(
            f'[llm]\ncache_dir = "{tmp_path / "cache"}"\nbackoff = 0.05\n'
            f'[models.perfect]\nbase_url = "{srv.base_url}"\nmodel = "{PERFECT}"\napi_key_env = ""\n'
            'price_prompt = 0.8\nprice_completion = 2.0\ncurrency = "CNY"\n'
            f'[models.flawed]\nbase_url = "{srv.base_url}"\nmodel = "{FLAWED}"\napi_key_env = ""\n'
            'price_prompt = 0.8\nprice_completion = 2.0\ncurrency = "CNY"\n', encoding="utf-8")
        args = ["eval", "--gold", str(GOLD), "--docs", glob, "--backend", "rules", "--backend", "llm",
                "--model", "perfect", "--model", "flawed", "--config", str(cfg), "--runs", str(tmp_path / "runs")]
        human = CliRunner().invoke(app, args + ["--markdown", str(tmp_path / "report.md")], terminal_width=230)
        assert human.exit_code == 0, human.output
        (first_id,) = [p.name for p in (tmp_path / "runs").iterdir()]
        second = None
        if again:
            requests = srv.count
            rerun = CliRunner().invoke(app, args + ["--json"])  # the same eval again: all from the cache
            assert rerun.exit_code == 0, rerun.output
            assert srv.count == requests
            second = json.loads(rerun.stdout)
    assert perfect.ambiguous == [] and flawed.ambiguous == []
    first = json.loads((tmp_path / "runs" / first_id / "results.json").read_text(encoding="utf-8"))
    return human, first, second, plans


def check(human, data, cached, plans):
    print(human.stdout)
    cols = data["columns"]
    assert list(cols) == ["rules", "llm:perfect", "llm:flawed"]
    expect = {(s, *k): st for s, p in plans.items() for k, st in p["expect"].items()}
    for s, p in plans.items():  # every document with three coded tables gets all three errors
        g = yaml.safe_load((GOLD / s.replace(".txt", ".yaml")).read_text(encoding="utf-8"))
        if sum(t in vocab.CODED_TABLES and bool((v or {}).get("rows")) for t, v in g["tables"].items()) >= 3:
            assert {"swap", "drop", "misread"} <= set(p), s
    assert expect

    def errors(col):
        return {(doc, o[0], o[1], o[2]): o[3] for doc, d in cols[col]["docs"].items()
                for o in d["cells"]["outcomes"] if o[3] != "ok"}

    assert errors("rules") == {} and errors("llm:perfect") == {}
    assert errors("llm:flawed") == expect  # exactly the scripted errors, nothing else
    assert cols["llm:perfect"]["overall"]["cells"]["f1"] == 1.0
    assert cols["llm:perfect"]["overall"]["narrative"]["f1"] == 1.0
    assert cols["llm:perfect"]["models_seen"] == [PERFECT] and cols["llm:flawed"]["models_seen"] == [FLAWED]
    assert set(cols["llm:perfect"]["prompt_versions"]) >= {"table", "narrative"}
    # usage per model: the flawed model's misreads cost two reasks each, in requests and tokens
    up, uf = cols["llm:perfect"]["usage"], cols["llm:flawed"]["usage"]
    misreads = sum("misread" in p for p in plans.values())
    assert (up["reasks"], uf["reasks"]) == (0, 2 * misreads)
    assert uf["requests"] == up["requests"] + 2 * misreads and up["cache_hits"] == uf["cache_hits"] == 0
    assert 0 < up["prompt_tokens"] < uf["prompt_tokens"] and 0 < float(up["cost"]) < float(uf["cost"])
    assert cols["llm:flawed"]["failures"] == cols["llm:perfect"]["failures"] == 0
    # the same eval again is served from the cache: no request, one hit per chunk, same scores
    for c in ("llm:perfect", "llm:flawed") if cached else ():
        u = cached["columns"][c]["usage"]
        assert (u["requests"], u["cache_hits"], float(u["cost"])) == (0, up["requests"], 0.0), (c, u)
        assert cached["columns"][c]["overall"] == cols[c]["overall"]
    # the flawed model's errors also raise check findings the gold does not have
    assert cols["llm:flawed"]["overall"]["checks"]["fp"] > 0 == cols["llm:perfect"]["overall"]["checks"]["fp"]
    # the terminal matrix: models as columns, and each spoiled cell on its own line
    out = human.stdout
    assert re.search(r"metric\s+┃\s+rules\s+┃\s+llm:perfect\s+┃\s+llm:flawed", out)
    assert f"cells not right in some column ({len(expect)})" in out
    for (doc, t, r, c), st in expect.items():
        line = next(x for x in out.splitlines() if f"{t} / {r} / {c} " in x and doc[:12] in x)
        marks = re.findall(r"✓|✗|–missing", line)
        assert marks == ["✓", "✓", "✗" if st == "wrong" else "–missing"], line
    reask_line = next(x for x in out.splitlines() if "retries / reasks" in x)
    assert [int(r) for _, r in re.findall(r"(\d+) / (\d+)", reask_line)] == [0, 0, 2 * misreads], reask_line


def test_matrix_rules_and_two_models_on_one_seed(tmp_path):
    seeds = ["001_e48c9036102b6734.txt"]
    human, data, cached, plans = eval_matrix(tmp_path, seeds, again=False)
    check(human, data, cached, plans)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| metric | rules | llm:perfect | llm:flawed |" in report
    swap = plans[seeds[0]]["swap"]
    assert f"| {swap[0]} | {swap[1]} | {swap[2]} |" in report


@pytest.mark.slow
def test_matrix_rules_and_two_models_on_the_five_seeds_and_again_from_the_cache(tmp_path):
    human, data, cached, plans = eval_matrix(tmp_path, SEEDS, again=True)
    check(human, data, cached, plans)


def test_a_failing_endpoint_is_scored_as_failures_and_a_bad_model_name_is_one_line(tmp_path, monkeypatch):
    from openai_server import Error

    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "STRUCTURER_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    with OpenAIServer(lambda req: Error(500, "down")) as srv:
        cfg = tmp_path / "structurer.toml"
        cfg.write_text(f'[llm]\ncache_dir = "{tmp_path / "cache"}"\nmax_attempts = 1\n'
                       f'[models.down]\nbase_url = "{srv.base_url}"\nmodel = "down-model"\napi_key_env = ""\n',
                       encoding="utf-8")
        base = ["eval", "--gold", str(GOLD), "--docs", "00[12]*", "--config", str(cfg), "--runs", str(tmp_path / "runs")]
        r = CliRunner().invoke(app, base + ["--model", "down", "--json", "--fail-under", "0.5",
                                            "--markdown", str(tmp_path / "r.md")])
        assert r.exit_code == 1, r.output  # the rules column passes the gate, the failing model does not
        data = json.loads(r.stdout)
        down = data["columns"]["llm:down"]
        assert down["failures"] == 2 and [e["doc"] for e in down["extraction_errors"]] == [
            "001_e48c9036102b6734.txt", "002_a298566b0f87c85f.txt"]
        assert all("LLMError" in e["error"] for e in down["extraction_errors"])
        assert down["overall"]["cells"]["tp"] == 0 and down["overall"]["cells"]["fn"] == 329 + 5
        assert data["columns"]["rules"]["overall"]["cells"]["f1"] == 1.0
        assert "llm:down: cell F1 0.0000 is below --fail-under 0.5" in r.stderr
        assert "rules: cell F1" not in r.stderr
        assert "extraction failed" in (tmp_path / "r.md").read_text(encoding="utf-8")
        bad = CliRunner().invoke(app, base + ["--model", "nosuch"])
        assert bad.exit_code == 2
        lines = [x for x in bad.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and "llm:nosuch" in lines[0] and "not in" in lines[0], bad.stderr
