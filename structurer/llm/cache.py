"""A content-addressed disk cache of chunk answers.

The key is the SHA-256 of a canonical JSON of everything that decides an answer: the
endpoint (without credentials), the model id, the instructor mode, the prompt name,
version and hash, the response schema hash, the chunk's numbered text, the rendered
messages, and the call parameters (temperature, max_tokens, seed, reask limit). An entry
holds the validated answer, the items grounding rejected, and the usage of the call that
made it — never a key or a header. Writes are atomic (temporary file + rename), so an
interrupted run leaves no half entry and a rerun of a finished job makes no request.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..output import write_atomic

CACHE_FORMAT = "1"


class CacheMiss(LookupError):
    """--cache-only and the answer is not in the cache."""


def cache_key(parts: dict) -> str:
    canonical = json.dumps({"format": CACHE_FORMAT, **parts}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class DiskCache:
    def __init__(self, root: str | Path):
        self.root = Path(root) / "llm"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        p = self.path(key)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # a damaged entry is a miss; it will be rewritten
        return data if isinstance(data, dict) and data.get("key") == key else None

    def put(self, key: str, entry: dict) -> Path:
        p = self.path(key)
        write_atomic(p, json.dumps({"key": key, **entry}, ensure_ascii=False, sort_keys=True, default=str))
        return p

    def entries(self) -> list[Path]:
        return sorted(self.root.glob("*/*.json")) if self.root.exists() else []
