"""Paths and ports, read from the environment each time so tests and CLI runs can point elsewhere."""

import os
import re
from pathlib import Path

DEFAULT_SEEDS_DIR = "seeds"
DEFAULT_WAREHOUSE = "warehouse/detour.duckdb"
DEFAULT_UI_PORT = 3000


def seeds_dir() -> Path:
    return Path(os.environ.get("DETOUR_SEEDS_DIR") or DEFAULT_SEEDS_DIR).resolve()


def warehouse_path() -> Path:
    # absolute, not resolved: the warehouse file is a link into the current published set
    return Path(os.path.abspath(os.environ.get("DETOUR_WAREHOUSE") or DEFAULT_WAREHOUSE))


def ui_port() -> int:
    return int(os.environ.get("DETOUR_UI_PORT") or DEFAULT_UI_PORT)


def first_month() -> str:
    """First month of the trade flows, YYYY-MM-01 (2017: the first year of the shipped BACI rows); set as
    YYYY-MM or a date of the month."""
    value = os.environ.get("DETOUR_FIRST_MONTH") or "2017-01-01"
    if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
        raise ValueError(f"DETOUR_FIRST_MONTH={value!r}: write the first month as YYYY-MM (e.g. 2017-01)")
    return value[:7] + "-01"


def last_month() -> str | None:
    """Last month of the trade flows (YYYY-MM) when set; by default the last month with data."""
    return os.environ.get("DETOUR_LAST_MONTH") or None


def refresh_cron() -> str:
    """When the schedule refreshes the whole graph (cron, UTC)."""
    return os.environ.get("DETOUR_REFRESH_CRON") or "0 6 * * *"


def sensor_interval() -> int:
    """Seconds between two looks of the seeds_changed sensor at the seeds folder."""
    return int(os.environ.get("DETOUR_SENSOR_INTERVAL") or 30)


def freshness_hours() -> int:
    """Marts are stale when no refresh succeeded within this many hours."""
    return int(os.environ.get("DETOUR_FRESHNESS_HOURS") or 48)


def max_quarantined_value_share() -> float:
    """Above this share of the value read, what the quarantine keeps aside or re-routes stops the publish."""
    return float(os.environ.get("DETOUR_MAX_QUARANTINED_VALUE_SHARE") or 0.001)


def max_quarantined_row_share() -> float:
    """Above this share of the trade-flow rows read (skipped rows aside), rows kept aside stop the publish,
    whatever their value: a lost month or country is a lost month or country even where its cents are unknown."""
    return float(os.environ.get("DETOUR_MAX_QUARANTINED_ROW_SHARE") or 0.01)


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit for pipeline connections; beyond it DuckDB spills to disk."""
    return os.environ.get("DETOUR_DUCKDB_MEMORY") or "2GB"


def lake_url() -> str | None:
    """Lake mode: the PostgreSQL database (postgresql://user:password@host:port/db) holding the DuckLake
    catalogs of the warehouse; unset, the warehouse is the DuckDB file DETOUR_WAREHOUSE."""
    return os.environ.get("DETOUR_LAKE") or None


def lake_data() -> Path:
    """Lake mode: the folder under which DuckLake writes the warehouse's Parquet files."""
    folder = os.environ.get("DETOUR_LAKE_DATA")
    if not folder:
        raise RuntimeError("DETOUR_LAKE is set but DETOUR_LAKE_DATA is not: say where the lake's Parquet files go")
    return Path(folder).resolve()


def settle_wait_minutes() -> float:
    """Lake mode: how long the checks and the publish wait for other runs still writing the build."""
    return float(os.environ.get("DETOUR_SETTLE_WAIT_MINUTES") or 60)
