"""Which of the tables every disclosure publishes were located: a document whose summary
tables were not found is never reported clean, since none of its totals could be checked."""
from __future__ import annotations

from .. import vocab
from ..model import Document
from .model import Result

_SUMMARIES = ("revenue_expenditure_summary", "fiscal_grant_summary")


def coverage_results(doc: Document) -> list[Result]:
    if doc.meta.kind not in ("budget", "final"):
        return []
    located = {t.id for t in doc.tables}
    out: list[Result] = []
    for tid in vocab.CORE_TABLES:
        if tid in located:
            continue
        title = vocab.KIND_BY_ID[tid].label
        out.append(Result("document.table_located", f"公开表已找到 ({title})", tid, "insufficient_data",
                          reason=f"{title} was not located in the document; its checks did not run"))
    # (a prose-only 情况说明 publishes its tables elsewhere: no core table at all is no alarm)
    if located & set(vocab.CORE_TABLES) and not located & set(_SUMMARIES):
        out.append(Result("document.summary_located", "收支总表或财政拨款收支总表已找到", "document", "fail",
                          severity="warning",
                          reason="neither summary table was located: the document's totals were not checked"))
    return out
