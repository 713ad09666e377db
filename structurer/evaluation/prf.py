"""Precision, recall and F1 from true/false positives and false negatives (one definition
for every scorer: nothing to find and nothing found counts as perfect)."""
from __future__ import annotations


class PRF:
    """Mixin: a class with `tp`, `fp` and `fn` (fields or properties) gets the three ratios."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0
