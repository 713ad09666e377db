from decimal import Decimal

import pytest

from conftest import GOLD
from structurer.gold import GoldError, load_gold, load_gold_dir


def test_all_gold_files_load_and_say_how_they_were_made():
    golds = load_gold_dir(GOLD)
    assert len([g for g in golds if not g.corpus]) == 5 and len(golds) >= 17
    for g in golds:
        assert g.cells or g.performance
        assert "hand" in (g.path.read_text(encoding="utf-8")).lower() or "手" in g.path.read_text()


def test_values_are_converted_with_the_table_unit():
    g = load_gold(GOLD / "003_fd949bb5025c67e5.yaml")
    assert g.cells[("revenue_expenditure_summary", "revenue.general_budget", "amount")] == Decimal("20048900.00")


@pytest.mark.parametrize("body,msg", [
    ("doc: x\ntables: {}\n", "how_made"),
    ("doc: x\nhow_made: by hand\ntables: {nope: {rows: {}}}\n", "unknown table"),
    ("doc: x\nhow_made: by hand\ntables: {revenue: {unit: 万元, rows: {total: {total: '1,2x'}}}}\n", "not a number"),
    ("doc: [unclosed\n", "cannot read"),
])
def test_bad_gold_file_is_a_clear_error(tmp_path, body, msg):
    p = tmp_path / "bad.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(GoldError, match=msg):
        load_gold(p)
