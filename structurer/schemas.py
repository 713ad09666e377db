"""JSON Schemas generated from the pydantic models (kept in sync with schemas/ by a test)."""
from __future__ import annotations

import json
from pathlib import Path

from .model import Document
from .output import write_atomic

SCHEMAS = {"document.schema.json": Document}


def render() -> dict[str, str]:
    return {name: json.dumps(model.model_json_schema(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            for name, model in SCHEMAS.items()}


def write(folder: str | Path) -> list[Path]:
    out = []
    for name, text in render().items():
        p = Path(folder) / name
        write_atomic(p, text)
        out.append(p)
    return out
