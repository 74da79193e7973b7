"""The months a run refreshes. The trade flows and everything built from them row by row are kept by month,
from DETOUR_FIRST_MONTH to the last month with data (found when the run starts, so a new month's file needs
nothing reloaded). A run covers every month unless its `detour/months` tag names a window
(`YYYY-MM..YYYY-MM`: `detour-run --months`, the seeds_changed sensor, or a tag set in the UI's Launchpad); a
run over every month rebuilds the tables from scratch.

These are not Dagster partitions, on purpose: a run over every month of partitioned assets wrote one
materialization event per asset and month (505 for the shipped seeds, about 5 s of a 25 s `make run`), and the
UI asked for a partition range, warned before launching a run over all of them, and split "Materialize all"
into ranges. A window in a tag keeps one event per asset and one click for everything; what it gives up is the
UI's per-month status bar (each run's tags say which months it refreshed)."""

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


MONTHS_TAG = "detour/months"  # YYYY-MM..YYYY-MM (or one YYYY-MM): the run refreshes only these months
WINDOW_TAG = re.compile(r"^\s*(\d{4}-\d{2})(?:\s*\.\.\s*(\d{4}-\d{2}))?\s*$")


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


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
            day = next_month(day)
        return months

    @property
    def span(self) -> str:
        """YYYY-MM..YYYY-MM: its first and last month."""
        return f"{self.months[0]}..{self.months[-1]}"

    @property
    def params(self) -> dict:
        return {"window_start": self.start, "window_end": self.end}


def every_month(seeds_dir: Path) -> Window:
    """The full window: DETOUR_FIRST_MONTH to the last month with data (to this month before there is any)."""
    first = dt.date.fromisoformat(settings.first_month()).replace(day=1)
    last = last_month_with_data(seeds_dir)
    end = next_month(dt.date.fromisoformat(f"{last}-01")) if last else next_month(dt.date.today().replace(day=1))
    return Window(start=first, end=max(end, next_month(first)), full=True)


def window(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, every: Window) -> Window:
    """The months of this run: its `detour/months` tag, or `every` month."""
    tag = context.run.tags.get(MONTHS_TAG)
    if not tag:
        return every
    match = WINDOW_TAG.match(tag)
    if not match:
        raise dg.Failure(description=f"run tag {MONTHS_TAG}={tag!r}: write the months as YYYY-MM or YYYY-MM..YYYY-MM",
                         allow_retries=False)
    first, last = match.group(1), match.group(2) or match.group(1)
    try:
        start, end = dt.date.fromisoformat(f"{first}-01"), next_month(dt.date.fromisoformat(f"{last}-01"))
    except ValueError:
        start = end = None
    if start is None or not (every.start <= start < end <= every.end):
        raise dg.Failure(
            description=f"run tag {MONTHS_TAG}={tag!r}: the months must lie within {every.span} "
            "(DETOUR_FIRST_MONTH to the last month with data)", allow_retries=False)
    return Window(start=start, end=end, full=(start, end) == (every.start, every.end))


def whole_years(win: Window) -> dict:
    """The window's bounds widened to the whole years its months fall in: a mart scored or ranked within a
    year is rewritten a year at a time."""
    last = win.end - dt.timedelta(days=1)
    return {"window_start": dt.date(win.start.year, 1, 1), "window_end": dt.date(last.year + 1, 1, 1)}


def month_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for the months first..last (YYYY-MM)."""
    return {MONTHS_TAG: first if first == last else f"{first}..{last}"}


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
