"""Command-line conventions: whole lines to a pipe, an internal error apart from findings,
--help paragraphs not broken where the source wraps them, --json where a table is printed."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

import structurer.checks.run as checks_run
import structurer.cli as cli
from conftest import EXAMPLES

SEED = EXAMPLES / "000_ce6cab5f862a266e.txt"
ANSI = re.compile(r"\x1b\[")


def run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "structurer", *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env={**os.environ, **(env or {})})


def test_check_report_to_a_pipe_is_plain_and_unwrapped():
    r = run("check", SEED, env={"COLUMNS": "60"})
    assert r.returncode == 0, r.stderr  # its one finding is a warning
    assert not ANSI.search(r.stdout)
    # each finding's "likely wrong" sentence stays on its line, however narrow the terminal claims to be
    likely = [ln for ln in r.stdout.splitlines() if "likely wrong:" in ln]
    assert likely and all("would satisfy" in ln and ln.rstrip().endswith("failing check(s)") for ln in likely)
    assert max(len(ln) for ln in r.stdout.splitlines()) > 60
    assert "─" * 20 not in r.stdout  # no rule drawn across an unlimited page


def test_selftest_table_to_a_pipe_keeps_every_column():
    r = run("selftest", SEED, "--mutations", "3", env={"COLUMNS": "40"})
    assert r.returncode == 0, r.stderr
    header = next(ln for ln in r.stdout.splitlines() if "mutations" in ln)
    for col in ("doc", "effective", "in_identity", "detected", "recall", "localized", "localization"):
        assert col in header, col  # not cut or folded to fit 40 columns
    assert "000_ce6cab5f862a266e" in r.stdout


def test_an_internal_error_is_one_line_with_its_own_exit_code(monkeypatch, capsys):
    def broken(doc):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(checks_run, "evaluate", broken)
    monkeypatch.delenv("STRUCTURER_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", str(SEED)])
    assert exc.value.code == cli.INTERNAL_ERROR != 1  # never the code of "findings"
    text = capsys.readouterr().err
    assert "Traceback" not in text and "second line" not in text
    assert "internal error" in text and "RuntimeError: boom" in text and "STRUCTURER_DEBUG" in text


def test_structurer_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setattr(checks_run, "evaluate", lambda doc: 1 / 0)
    monkeypatch.setenv("STRUCTURER_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["check", str(SEED)])


def test_help_paragraphs_are_not_broken_where_the_docstring_wraps():
    # the docstring breaks this sentence across source lines; help joins it into one paragraph
    r = run("extract", "--help", env={"COLUMNS": "300"})
    assert r.returncode == 0
    assert "Pages without a text layer and image files are read by OCR" in r.stdout


def test_llm_models_and_prompts_have_json(tmp_path):
    cfg = tmp_path / "structurer.toml"
    cfg.write_text('[models.q]\nmodel = "qwen-plus"\nbase_url = "http://127.0.0.1:9/v1"\n'
                   'api_key_env = "Q_KEY"\n', encoding="utf-8")
    r = run("llm", "models", "--config", cfg, "--json")
    assert r.returncode == 0, r.stderr
    models = json.loads(r.stdout)
    assert [m["name"] for m in models] == ["q"] and models[0]["model"] == "qwen-plus"
    r = run("llm", "prompts", "--json")
    assert r.returncode == 0, r.stderr
    assert set(json.loads(r.stdout)) == {"table", "narrative", "performance"}
