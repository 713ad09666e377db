from pathlib import Path

from structurer.schemas import render

ROOT = Path(__file__).resolve().parent.parent


def test_schemas_in_repo_match_the_models():
    for name, text in render().items():
        path = ROOT / "schemas" / name
        assert path.exists(), f"missing {path}; run `structurer schemas`"
        assert path.read_text(encoding="utf-8") == text, f"{name} drifted; run `structurer schemas`"
