"""Versioned prompt templates from `prompts/<name>.md`.

A prompt file has a front matter (`name`, `version`) and two parts, `[system]` and
`[user]`; `${name}` placeholders are filled with `string.Template` (documents contain
braces, so no format-string or Jinja syntax). The version and a hash of the file's
content go into every cache key and into `Document.prompt_versions`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "prompts"
_FRONT_RE = re.compile(r"\A---\n(?P<front>.*?)\n---\n", re.S)
_PART_RE = re.compile(r"^\[(system|user)\]\n", re.M)


class PromptError(ValueError):
    pass


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    hash: str  # sha256 of the file, first 12 hex digits
    system: str
    user: Template

    @property
    def tag(self) -> str:
        """`version+hash`, as recorded in outputs and cache keys."""
        return f"{self.version}+{self.hash}"

    def messages(self, **values: str) -> list[dict[str, str]]:
        try:
            user = self.user.substitute(**values)
        except KeyError as e:
            raise PromptError(f"prompt {self.name}: no value for ${{{e.args[0]}}}") from e
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


@lru_cache(maxsize=32)
def load_prompt(name: str, folder: str | None = None) -> Prompt:
    path = Path(folder) if folder else DEFAULT_DIR
    path = path / f"{name}.md"
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PromptError(f"cannot read prompt {path}: {e.strerror or e}") from e
    m = _FRONT_RE.match(raw)
    if not m:
        raise PromptError(f"{path}: a prompt starts with a front matter (---, name, version, ---)")
    front = dict(line.split(":", 1) for line in m.group("front").splitlines() if ":" in line)
    front = {k.strip(): v.strip() for k, v in front.items()}
    if not front.get("version"):
        raise PromptError(f"{path}: the front matter needs a version")
    body = raw[m.end():]
    parts = _PART_RE.split(body)
    sections = {parts[k]: parts[k + 1].strip("\n") for k in range(1, len(parts) - 1, 2)}
    if "system" not in sections or "user" not in sections:
        raise PromptError(f"{path}: a prompt needs a [system] and a [user] part")
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]
    return Prompt(front.get("name", name), front["version"], digest, sections["system"],
                  Template(sections["user"]))
