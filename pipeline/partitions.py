"""Monthly partitions of the trade flows and everything built from them, row by row.
A run covers a window of months; a run over every month is a full rebuild. The partitions end at the
last month with data, so the UI shows no empty months; a new month's file adds its partition when
the definitions load again (every run loads them; the UI on "Reload definitions")."""

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from pipeline import settings
from schemas import TRADE_FLOWS

MONTH_OF_FILE = re.compile(r"^(\d{4}-(0[1-9]|1[0-2]))")
BACI_YEARS = re.compile(r"^BACI_HS\d{2}_Y(\d{4})(?:-(\d{4}))?_", re.IGNORECASE)  # BACI_HS17_Y2023_… or _Y2017-2023_…


def file_month(name: str) -> str | None:
    """YYYY-MM from a trade-flow file name such as 2023-05.csv or 2023-05_customs.csv."""
    match = MONTH_OF_FILE.match(name)
    return match.group(1) if match else None


def last_month_with_data(seeds_dir: Path) -> str | None:
    """YYYY-MM: the latest month named by a trade-flow file, or December of the latest year a BACI
    file name covers; DETOUR_LAST_MONTH overrides (e.g. for Comtrade downloads, whose names say nothing)."""
    if settings.last_month():
        return settings.last_month()
    months = [m for p in (seeds_dir / TRADE_FLOWS.path).glob("*") if p.suffix.casefold() == ".csv" and (m := file_month(p.name))]
    years = [y[1] or y[0] for p in (seeds_dir / "imports").rglob("*") if (y := BACI_YEARS.match(p.name))]
    return max([*months, *(f"{year}-12" for year in years)], default=None)


def months_definition(seeds_dir: Path) -> dg.MonthlyPartitionsDefinition:
    last = last_month_with_data(seeds_dir)
    if last is None:  # no data yet: up to the current month, so a first file can load
        return dg.MonthlyPartitionsDefinition(start_date=settings.first_month(), end_offset=1)
    year, month = map(int, last.split("-"))
    end = dt.date(year + month // 12, month % 12 + 1, 1)  # the day after the last month
    return dg.MonthlyPartitionsDefinition(start_date=settings.first_month(), end_date=end.isoformat())


MONTHS = months_definition(settings.seeds_dir())
SINGLE_RUN = dg.BackfillPolicy.single_run()
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class Window:
    start: dt.date  # first day of the first month
    end: dt.date  # first day after the last month
    full: bool  # the window covers every partition: rebuild tables from scratch

    @property
    def months(self) -> list[str]:
        months, day = [], self.start
        while day < self.end:
            months.append(day.strftime("%Y-%m"))
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return months

    @property
    def params(self) -> dict:
        return {"window_start": self.start, "window_end": self.end}


def window(context: dg.AssetExecutionContext) -> Window:
    time_window = context.partition_time_window
    keys = MONTHS.get_partition_keys(dynamic_partitions_store=context.instance)
    key_range = context.partition_key_range
    return Window(
        start=time_window.start.date(),
        end=time_window.end.date(),
        full=(key_range.start, key_range.end) == (keys[0], keys[-1]),
    )


def every_month(context: dg.AssetExecutionContext) -> Window:
    """The full window: every monthly partition."""
    keys = MONTHS.get_partition_keys(dynamic_partitions_store=context.instance)
    first = dt.date.fromisoformat(keys[0])
    last = dt.date.fromisoformat(keys[-1])
    return Window(start=first, end=(last.replace(day=28) + dt.timedelta(days=4)).replace(day=1), full=True)


def all_months_tags() -> dict[str, str]:
    """Run tags that make one run cover every monthly partition."""
    keys = MONTHS.get_partition_keys()
    return {RANGE_START: keys[0], RANGE_END: keys[-1]}


def month_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for the months first..last (YYYY-MM)."""
    return {RANGE_START: f"{first}-01", RANGE_END: f"{last}-01"}


CHUNK_FLOWS = 500_000  # flows a step takes at a time (see chunks): a chunk's work fits in DETOUR_DUCKDB_MEMORY
MONTH_SIZES_SQL = """
SELECT period, count(*) FROM core.trade_flows WHERE period >= $window_start AND period < $window_end GROUP BY period ORDER BY period
"""


def chunks(con: duckdb.DuckDBPyConnection, params: dict) -> list[dict]:
    """The window cut into runs of whole months of about CHUNK_FLOWS flows each (a month is never cut).
    Which report of a trade counts, a flow's routes and sanctions, and the partitioned marts' figures
    depend on its own month only, so each chunk is built on its own, in memory: one pass over ten years
    of 10M flows spilled the routed rows to disk for minutes and outgrew the memory limit."""
    bounds, flows = [params["window_start"]], 0
    for period, count in con.execute(MONTH_SIZES_SQL, params).fetchall():
        if flows and flows + count > CHUNK_FLOWS:
            bounds.append(period)
            flows = 0
        flows += count
    bounds.append(params["window_end"])
    return [{**params, "window_start": start, "window_end": end} for start, end in zip(bounds, bounds[1:])]
