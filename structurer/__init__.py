"""structurer: Chinese budget and final-accounts disclosures → one canonical, validated data set.

The library API (`extract`, `check`, `load`, `Document`, the errors) is loaded on first use,
so the command line starts without it."""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["extract", "check", "load", "Document", "CheckReport",
           "StructurerError", "InputRefused", "NotADisclosure", "EndpointError", "__version__"]

_LAZY = {"extract": "api", "check": "api", "load": "api", "Document": "model",
         "CheckReport": "checks.model", "StructurerError": "errors", "InputRefused": "errors",
         "NotADisclosure": "errors", "EndpointError": "errors"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'structurer' has no attribute {name!r}")
