"""results.py: result.csv's layout in each year, written and read back, and read without its
year (results.layout)."""
import csv

import pytest

from dcase_baseline import results, safe_io, years
from dcase_baseline.results import Block, ResultRow

HEADER = ["AUC (source)", "AUC (target)", "pAUC", "precision (source)", "precision (target)",
          "recall (source)", "recall (target)", "F1 score (source)", "F1 score (target)"]
FAN = Block("fan", [ResultRow(("00",), [0.5, 1.0, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
                    ResultRow(("01",), [1.0, None, 0.5, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0])])
VALVE = Block("valve", [ResultRow(("00",), [0.25] * 9)])


def test_result_rows_layout_of_2022(tmp_path):
    path = tmp_path / "result.csv"
    safe_io.save_csv(path, results.result_rows([FAN, VALVE], years.YEARS[2022]))
    rows = list(csv.reader(path.open(newline="")))
    assert rows[0] == ["fan"] and rows[1] == ["section"] + HEADER
    assert rows[2] == ["00", "0.5", "1.0", "0.25"] + ["0.5"] * 6
    assert rows[3] == ["01", "1.0", "", "0.5", "1.0", "0.0", "1.0", "0.0", "1.0", "0.0"]
    assert rows[4][0] == "arithmetic mean"
    assert [float(v) for v in rows[4][1:4]] == [0.75, 1.0, 0.375]
    assert rows[5][0] == "harmonic mean"
    # 2 / (1/0.5 + 1/1) = 2/3 ; 2 / (4 + 2) = 1/3
    assert float(rows[5][1]) == pytest.approx(2 / 3) and float(rows[5][3]) == pytest.approx(1 / 3)
    assert rows[6] == [] and rows[7] == ["valve"] and rows[9][0] == "00"
    assert rows[12] == [] and rows[13] == [""] + HEADER
    assert rows[14][0] == "arithmetic mean over all machine types, sections, and domains"
    # AUC (source) over all three sections: (0.5 + 1 + 0.25) / 3
    assert float(rows[14][1]) == pytest.approx(1.75 / 3)
    assert rows[15][0] == "harmonic mean over all machine types, sections, and domains"
    assert rows[16] == []
    # AUCs and pAUCs: 0.5 1 .25 | 1 .5 | .25 .25 .25 -> 8 / (2+1+4+1+2+4+4+4)
    assert rows[17][0] == "official score" and float(rows[17][1]) == pytest.approx(8 / 22)
    assert len(rows) == 18
    text = path.read_text()
    assert '\n"arithmetic mean over all machine types, sections, and domains",' in text
    assert "\r" not in text and text.endswith("\n")


def test_2020_and_2021_layouts():
    ids = Block("fan", [ResultRow(("00",), [0.5, 0.25]), ResultRow(("02",), [1.0, 0.75])])
    rows = results.result_rows([ids], years.YEARS[2020])
    assert rows == [["fan"], ["id", "AUC", "pAUC"], ["00", 0.5, 0.25], ["02", 1.0, 0.75],
                    ["Average", 0.75, 0.5], []]          # no overall means, no official score
    units = Block("fan", [ResultRow(("00", "source"), [0.5, 0.25, 1.0, 0.5, 2 / 3]),
                          ResultRow(("00", "target"), [1.0, 0.5, 0.0, 0.0, 0.0])])
    rows = results.result_rows([units], years.YEARS[2021])
    assert rows[1] == ["section", "domain", "AUC", "pAUC", "precision", "recall", "F1 score"]
    assert rows[4][:2] == ["arithmetic mean", ""] and rows[4][2:4] == [0.75, 0.375]
    assert rows[7] == ["", "", "AUC", "pAUC", "precision", "recall", "F1 score"]
    # harmonic mean of 0.5, 0.25, 1.0, 0.5: 4 / (2 + 4 + 1 + 2)
    assert rows[-1][0] == "official score" and rows[-1][1] == pytest.approx(4 / 9)


@pytest.mark.parametrize("year", sorted(years.YEARS))
def test_a_block_reads_back_as_written(tmp_path, year):
    record = years.YEARS[year]
    n = len(record.metric_columns)
    keys = [("00",), ("01",)] if len(record.unit_keys) == 1 else [("00", "source"),
                                                                  ("00", "target")]
    block = Block("pump", [ResultRow(keys[0], [0.125 * (i + 1) for i in range(n)]),
                           ResultRow(keys[1], [None] + [0.5] * (n - 1))])
    path = tmp_path / "block.csv"
    safe_io.save_csv(path, results.machine_rows(block, record))
    assert results.parse_block(safe_io.read_csv(path), record) == block


def test_layout_without_the_year():
    rows = [[str(c) if c is not None else "" for c in row]
            for row in results.result_rows([FAN, VALVE], years.YEARS[2022])]
    shapes = results.layout(rows)
    assert [s.kind for s in shapes[:6]] == ["title", "header", "data", "data", "data", "data"]
    assert shapes[2].fixed == ("00",) + (None,) * 9 and shapes[2].machine == "fan"
    assert shapes[4].fixed[0] == "arithmetic mean" and shapes[4].n_keys == 1
    official = shapes[-1]
    assert official.kind == "data" and official.machine == "" and official.header is None
    assert official.fixed == ("official score", None)
    units_2021 = [[str(c) for c in row] for row in results.result_rows(
        [Block("fan", [ResultRow(("00", "source"), [0.5] * 5)])], years.YEARS[2021])]
    assert results.layout(units_2021)[2].n_keys == 2


def test_official_score_takes_the_ranked_columns_only():
    rows = [ResultRow(("00",), [0.5, 1.0, 0.25] + [0.9] * 6),
            ResultRow(("01",), [1.0, None, 0.5] + [0.1] * 6)]
    # AUC (source), AUC (target), pAUC: 0.5, 1, 0.25, 1, 0.5 -> 5 / (2 + 1 + 4 + 1 + 2)
    assert results.official_score(rows, years.YEARS[2022]) == pytest.approx(0.5)
    assert results.official_score([ResultRow(("00",), [0.5, 0.5])], years.YEARS[2020]) is None
