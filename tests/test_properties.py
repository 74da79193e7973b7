"""Property-based: random bad rows and junk lines inserted at random places into a valid trade-flow
file. Whatever hypothesis draws, rows read = rows loaded + rows kept aside, every original row
arrives unchanged, no bad row arrives, and each bad row is kept aside at its own line."""

import csv
import io
import re
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE
from tests.conftest import SHIPPED_SEEDS, check_file
from tests.seededit import read_rows

FILE = "trade_flows/2020-06.csv"
HEADER, ROWS = read_rows(SHIPPED_SEEDS / FILE)
HS_CODE = re.compile(r"\d{2,10}")
LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Values each column's contract refuses, and random text that is no valid value of it.
BAD_VALUES = {
    "value": st.sampled_from(["NaN", "inf", "-inf", "1e309", "1e20", "-0.01", "1,5", "12 000", "$5", "abc"]),
    "quantity_kg": st.sampled_from(["-1", "NaN", "1e16", "ten"]),
    "period": st.sampled_from(["2020-13", "2020/06", "20-06", "2020-07", "June 2020", "2020-6"]),
    "hs_code": st.text(max_size=14).filter(lambda t: t.strip() != "" and not HS_CODE.fullmatch(t.strip())),
    "hs_edition": st.text(max_size=8).filter(lambda t: t.strip() not in ("HS2017", "HS2022", "")),
    "currency": st.sampled_from(["XYZ", "usd!", "EURO", "ZZZ"]),
    "exporter_iso3": st.sampled_from(["XXX", "rus", "RU", "R-S", "QQQ"]),
    "basis": st.text(min_size=1, max_size=10).filter(lambda t: t.strip() not in ("exporter_reported", "importer_reported", "baci_reconciled", "")),
    "vessel_imo": st.sampled_from(["IMO123", "123456789", "IMO12345678", "imo1234567"]),
}

bad_row = st.builds(
    lambda template, breaks: (template, breaks),
    st.integers(0, len(ROWS) - 1),
    st.dictionaries(st.sampled_from(sorted(BAD_VALUES)), st.none(), min_size=1, max_size=3).flatmap(
        lambda columns: st.fixed_dictionaries({c: BAD_VALUES[c] for c in columns})
    ),
)
# a line that is no row: text without quotes or line breaks, never blank, not splitting into 17 fields
junk_line = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters='"\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'),
    min_size=1, max_size=60,
).filter(lambda t: t.strip() != "" and t.count(",") != len(HEADER) - 1)


def as_line(values: list[str]) -> str:
    """One CSV record, quoted as a spreadsheet writes it (a cell holding a CR or LF is quoted)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue().removesuffix("\r\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    inserts=st.lists(
        st.tuples(st.integers(0, len(ROWS)), st.one_of(bad_row.map(lambda b: ("row", b)), junk_line.map(lambda j: ("junk", j)))),
        min_size=1, max_size=8,
    )
)
def test_random_bad_rows_are_kept_aside_and_every_good_row_arrives(inserts, reference):
    lines = [as_line([row[c] for c in HEADER]) for row in ROWS]
    inserted = []  # (position among the data lines, line text)
    for index, (position, (kind, what)) in enumerate(inserts):
        if kind == "row":
            template, breaks = what
            row = {**ROWS[template], **breaks, "flow_id": f"BAD-{index}"}  # its own id: only its bad cells can fail it
            inserted.append((position, as_line([row[c] for c in HEADER])))
        else:
            inserted.append((position, what))
    for position, line in sorted(inserted, key=lambda p: p[0], reverse=True):
        lines.insert(position, line)
    bad_lines, line_number = set(), 2
    for line in lines:  # a cell's CR or LF inside quotes ends a physical line, as an editor counts them
        if line in {text for _, text in inserted}:
            bad_lines.add(line_number)
        line_number += 1 + len(LINE_BREAK.findall(line))

    with tempfile.TemporaryDirectory() as folder:
        seeds = Path(folder)
        (seeds / "trade_flows").mkdir()
        (seeds / FILE).write_text("\n".join([",".join(HEADER), *lines]) + "\n", encoding="utf-8")
        checked = check_file(seeds, FILE, reference)

    kept = set(checked.quarantine.filter(pl.col(SOURCE_FILE) == FILE).get_column(ROW_NUMBER).to_list())
    assert checked.rows_read == len(ROWS) + len(inserted)
    assert checked.rows_read == checked.good.height + len(kept)
    assert kept == bad_lines, (sorted(kept), sorted(bad_lines))
    arrived = checked.good.select(HEADER).with_columns(pl.all().cast(pl.String))
    assert arrived.height == len(ROWS)
    assert set(arrived.get_column("flow_id").to_list()) == {row["flow_id"] for row in ROWS}
