"""The regression gate: `--fail-under F` fails the eval when a column scores below F.

The gated score is the overall cell F1 (micro-averaged over the selected documents) of
every column; a column whose extractions failed scores them as all-missing, so failures
lower it too.
"""
from __future__ import annotations

from .cells import Counts
from .runner import EvalError


def check_threshold(value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise EvalError(f"--fail-under must be between 0 and 1 (got {value})")


def gate(data: dict, threshold: float) -> list[str]:
    """One line per column below the threshold (empty: the gate passes)."""
    out = []
    for name, c in data["columns"].items():
        f1 = Counts.from_dict(c["overall"]["cells"]).f1
        if f1 < threshold:
            out.append(f"{name}: cell F1 {f1:.4f} is below --fail-under {threshold}")
    return out
