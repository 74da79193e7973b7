"""Docs that cannot drift: every SQL block in the README is run with the duckdb CLI on the warehouse
the shipped seeds build, and what it prints must be the output block shown under it (a block with no
output shown must still run). DETOUR_UPDATE_README=1 writes the real output into the README instead."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
# a ```sql block, optionally followed at once by a plain ``` block: what the CLI prints for it
SQL_BLOCK = re.compile(r"```sql\n(?P<sql>.*?)```\n(?:```\n(?P<shown>.*?)```\n)?", re.S)


def sql_blocks() -> list[re.Match]:
    return list(SQL_BLOCK.finditer(README.read_text(encoding="utf-8")))


def cli_output(warehouse: Path, sql: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "duckdb"), "-readonly", str(warehouse), "-c", sql],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


def test_the_readme_has_sql_blocks_with_their_output():
    blocks = sql_blocks()
    assert len(blocks) >= 6 and sum(b["shown"] is not None for b in blocks) >= 5


@pytest.mark.parametrize("index", range(len(sql_blocks())))
def test_a_readme_sql_block_prints_what_the_readme_shows(shipped_build, index):
    block = sql_blocks()[index]
    printed = cli_output(shipped_build.warehouse, block["sql"])
    if block["shown"] is None:
        return
    if os.environ.get("DETOUR_UPDATE_README"):
        text = README.read_text(encoding="utf-8")
        start, end = sql_blocks()[index].span("shown")
        README.write_text(text[:start] + printed + text[end:], encoding="utf-8")
        return
    assert printed == block["shown"], f"README block {index + 1} (starting {block['sql'][:60]!r}) drifted"
