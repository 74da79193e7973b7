"""Paths and ports, read from the environment each time so tests and CLI runs can point elsewhere."""

import os
from pathlib import Path

DEFAULT_SEEDS_DIR = "seeds"
DEFAULT_WAREHOUSE = "warehouse/detour.duckdb"
DEFAULT_UI_PORT = 3000


def seeds_dir() -> Path:
    return Path(os.environ.get("DETOUR_SEEDS_DIR") or DEFAULT_SEEDS_DIR).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("DETOUR_WAREHOUSE") or DEFAULT_WAREHOUSE).resolve()


def ui_port() -> int:
    return int(os.environ.get("DETOUR_UI_PORT") or DEFAULT_UI_PORT)
