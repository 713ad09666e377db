"""Where the model is and how to talk to it: environment variables or `structurer.toml`.

    [llm]                      # run settings (all optional)
    default = "qwen"           # model used when --model is not given
    cache_dir = "cache"
    concurrency = 8            # requests in flight
    requests_per_minute = 600
    tokens_per_minute = 1000000

    [models.qwen]              # `--model qwen`
    base_url = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    model = "qwen-plus"
    api_key_env = "DASHSCOPE_API_KEY"   # the key itself never goes in the file
    mode = "tools"             # tools | json_schema | md_json | json
    price_prompt = 0.8         # per million tokens
    price_completion = 2.0
    currency = "CNY"

Without a file, `OPENAI_BASE_URL` (default the OpenAI API) and `OPENAI_API_KEY` name the
endpoint and `--model` (or `OPENAI_MODEL`) the model id. The key is read from the
environment when the client is built and is never stored in the settings, a cache entry,
an output or a log line.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .accounting import Prices
from .chunking import ChunkLimits

MODES = ("tools", "json_schema", "md_json", "json")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
CONFIG_NAME = "structurer.toml"


class ConfigError(ValueError):
    """A configuration problem, reported as one line."""


@dataclass(frozen=True)
class ModelConfig:
    name: str  # the name used on the command line
    model: str  # the model id sent to the endpoint
    base_url: str = DEFAULT_BASE_URL
    api_key_env: str = "OPENAI_API_KEY"  # "" for endpoints that need no key
    mode: str = "tools"
    prices: Prices = Prices()
    temperature: float = 0.0
    max_tokens: int | None = 8192
    seed: int | None = None

    @property
    def endpoint(self) -> str:
        """The base URL without credentials, query or fragment (safe to store)."""
        return safe_url(self.base_url)

    def api_key(self, environ=None) -> str:
        env = os.environ if environ is None else environ
        if not self.api_key_env:
            return "no-key"
        key = env.get(self.api_key_env, "")
        if key:
            return key
        host = urlsplit(self.base_url).hostname or ""
        if host in ("127.0.0.1", "localhost", "::1"):
            return "no-key"  # local servers (vLLM, Ollama, llama.cpp) accept any key
        raise ConfigError(f"model {self.name!r}: set the API key in the environment variable {self.api_key_env}")


@dataclass(frozen=True)
class Settings:
    model: ModelConfig
    cache_dir: Path = Path("cache")
    use_cache: bool = True  # read and write the cache (--no-cache: neither)
    cache_only: bool = False  # replay: a cache miss is an error
    concurrency: int = 8  # requests in flight
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    rate_period_s: float = 60.0  # the window of the per-minute limits (tests shorten it)
    timeout_s: float = 120.0  # one HTTP attempt
    max_attempts: int = 5  # HTTP attempts per request (transport retries = attempts - 1)
    backoff_s: float = 1.0  # first backoff after a timeout / 5xx; doubles, with jitter
    backoff_max_s: float = 60.0
    max_reasks: int = 2  # validation errors sent back to the model per chunk
    limits: ChunkLimits = field(default_factory=ChunkLimits)
    prompts_dir: str | None = None

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _decimal(v, where: str) -> Decimal:
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError) as e:
        raise ConfigError(f"{where}: not a number: {v!r}") from e


def _model_from_table(name: str, t: dict, where: str) -> ModelConfig:
    known = {"base_url", "model", "api_key_env", "mode", "price_prompt", "price_completion", "currency",
             "temperature", "max_tokens", "seed"}
    unknown = set(t) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    if "api_key" in t:
        raise ConfigError(f"{where}: put the key in an environment variable and name it with api_key_env")
    mode = str(t.get("mode", "tools"))
    if mode not in MODES:
        raise ConfigError(f"{where}: mode must be one of {', '.join(MODES)}, not {mode!r}")
    base = str(t.get("base_url") or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: base_url must be an http(s) URL")
    try:
        return ModelConfig(
            name=name, model=str(t.get("model") or name), base_url=base,
            api_key_env=str(t.get("api_key_env", "OPENAI_API_KEY")), mode=mode,
            prices=Prices(_decimal(t.get("price_prompt", 0), f"{where}.price_prompt"),
                          _decimal(t.get("price_completion", 0), f"{where}.price_completion"),
                          str(t.get("currency", ""))),
            temperature=float(t.get("temperature", 0.0)),
            max_tokens=int(t["max_tokens"]) if t.get("max_tokens") else 8192,
            seed=int(t["seed"]) if t.get("seed") is not None else None)
    except (TypeError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{where}: {e}") from e


_RUN_KEYS = {"default": str, "cache_dir": str, "concurrency": int, "requests_per_minute": int,
             "tokens_per_minute": int, "timeout": float, "max_attempts": int, "backoff": float,
             "max_reasks": int, "max_chunk_chars": int, "max_chunk_lines": int, "prompts_dir": str}


def find_config(path: str | Path | None) -> Path | None:
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} not found")
        return p
    env = os.environ.get("STRUCTURER_CONFIG")
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"STRUCTURER_CONFIG names {p}, which does not exist")
        return p
    p = Path(CONFIG_NAME)
    return p if p.is_file() else None


def read_config(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e


def configured_models(data: dict, where: str = CONFIG_NAME) -> dict[str, ModelConfig]:
    models = data.get("models") or {}
    if not isinstance(models, dict):
        raise ConfigError(f"{where}: [models] must be a table of model tables")
    return {name: _model_from_table(name, t if isinstance(t, dict) else {}, f"{where}: models.{name}")
            for name, t in models.items()}


def load_settings(model: str | None = None, config: str | Path | None = None, *,
                  no_cache: bool = False, cache_only: bool = False,
                  cache_dir: str | Path | None = None) -> Settings:
    """Settings for a run: the named model from the config file, else the environment."""
    if no_cache and cache_only:
        raise ConfigError("--no-cache and --cache-only exclude each other")
    path = find_config(config)
    data = read_config(path)
    where = str(path) if path else CONFIG_NAME
    run = data.get("llm") or {}
    for k, v in run.items():
        if k not in _RUN_KEYS:
            raise ConfigError(f"{where}: [llm] has no setting {k!r}")
        try:
            _RUN_KEYS[k](v)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}: [llm] {k} = {v!r} is not a {_RUN_KEYS[k].__name__}") from e
    models = configured_models(data, where)
    name = model or run.get("default") or os.environ.get("OPENAI_MODEL")
    if name and name in models:
        mc = models[name]
    elif name:
        if models and model and not (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY")):
            raise ConfigError(f"model {name!r} is not in {where} (configured: {', '.join(models)})")
        mc = _model_from_table(name, {"model": name}, "environment")
    else:
        raise ConfigError("no model given: pass --model (a model id, or a name from structurer.toml) "
                          "or set OPENAI_MODEL")
    limits = ChunkLimits(max_lines=int(run.get("max_chunk_lines", ChunkLimits.max_lines)),
                         max_chars=int(run.get("max_chunk_chars", ChunkLimits.max_chars)))
    base = Settings(model=mc)
    return Settings(
        model=mc,
        cache_dir=Path(cache_dir or run.get("cache_dir") or base.cache_dir),
        use_cache=not no_cache, cache_only=cache_only,
        concurrency=int(run.get("concurrency", base.concurrency)),
        requests_per_minute=run.get("requests_per_minute"),
        tokens_per_minute=run.get("tokens_per_minute"),
        timeout_s=float(run.get("timeout", base.timeout_s)),
        max_attempts=int(run.get("max_attempts", base.max_attempts)),
        backoff_s=float(run.get("backoff", base.backoff_s)),
        max_reasks=int(run.get("max_reasks", base.max_reasks)),
        limits=limits, prompts_dir=run.get("prompts_dir"))


def describe(mc: ModelConfig) -> dict[str, str]:
    """What may be shown about a model (never the key)."""
    out = {f.name: str(getattr(mc, f.name)) for f in fields(mc) if f.name not in ("base_url", "prices")}
    out["endpoint"] = mc.endpoint
    out["prices"] = (f"{mc.prices.prompt}/{mc.prices.completion} per 1M tokens {mc.prices.currency}").strip()
    return out
