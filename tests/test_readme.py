"""Docs that cannot drift: every SQL block in the README and in docs/*.md is run with the duckdb CLI on
the warehouse the shipped seeds build, and what it prints must be the output block shown under it (a
block with no output shown must still run). DETOUR_UPDATE_README=1 writes the real output into the page
instead. Every relative link and image of those pages must point at a file of the repository, none may
point outside it (`../shared` is not in a clone), and the README stays short enough to read in ten
minutes."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 250
# a ```sql block, optionally followed at once by a plain ``` block: what the CLI prints for it
SQL_BLOCK = re.compile(r"```sql\n(?P<sql>.*?)```\n(?:```\n(?P<shown>.*?)```\n)?", re.S)
FENCED = re.compile(r"^```.*?^```[^\n]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# the target of a markdown link or image, [text](target) or ![alt](target) (with an optional "title"),
# and the src or href of an HTML tag
LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|\b(?:src|href)=\"([^\"]+)\"")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)  # http(s):, mailto:, ...


def sql_blocks(page: Path) -> list[re.Match]:
    return list(SQL_BLOCK.finditer(page.read_text(encoding="utf-8")))


def all_blocks() -> list[tuple[Path, int]]:
    return [(page, index) for page in PAGES for index in range(len(sql_blocks(page)))]


def cli_output(warehouse: Path, sql: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "duckdb"), "-readonly", str(warehouse), "-c", sql],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


def test_the_docs_have_sql_blocks_with_their_output():
    blocks = [block for page in PAGES for block in sql_blocks(page)]
    assert len(blocks) >= 6 and sum(b["shown"] is not None for b in blocks) >= 5
    readme = sql_blocks(README)
    assert len(readme) >= 3 and all(b["shown"] is not None for b in readme)


@pytest.mark.parametrize(("page", "index"), all_blocks(), ids=lambda v: v.name if isinstance(v, Path) else str(v + 1))
def test_a_sql_block_prints_what_its_page_shows(shipped_build, page, index):
    block = sql_blocks(page)[index]
    printed = cli_output(shipped_build.warehouse, block["sql"])
    if block["shown"] is None:
        return
    if os.environ.get("DETOUR_UPDATE_README"):
        text = page.read_text(encoding="utf-8")
        start, end = sql_blocks(page)[index].span("shown")
        page.write_text(text[:start] + printed + text[end:], encoding="utf-8")
        return
    rel = page.relative_to(REPO)
    assert printed == block["shown"], f"{rel} block {index + 1} (starting {block['sql'][:60]!r}) drifted"


def link_targets(text: str) -> list[str]:
    """Every link and image target of a markdown page, outside code."""
    prose = INLINE_CODE.sub("", FENCED.sub("", text))
    return [m[1] or m[2] for m in LINK_TARGET.finditer(prose)]


def broken_links(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    broken = [f"{page.relative_to(REPO)}: mentions ../shared" for _ in range(text.count("../shared"))]
    for target in link_targets(text):
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if not (page.parent / path).resolve().exists():
            broken.append(f"{page.relative_to(REPO)}: {target} does not exist")
    return broken


def test_link_targets_are_found_outside_code():
    text = ('[a](x.md) ![b](pics/c.png "title") [![d](e.png)](f.png#top) <img src="g.png"> '
            "`[h](not-a-link)` [i](https://example.org) [j](#anchor)\n```\n[k](code.md)\n```\n")
    assert link_targets(text) == ["x.md", "pics/c.png", "e.png", "f.png#top", "g.png", "https://example.org", "#anchor"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_links_only_to_files_that_exist(page):
    assert broken_links(page) == []


def test_a_missing_target_or_shared_folder_is_caught(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("x")
    page = tmp_path / "docs" / "page.md"
    page.write_text("[ok](there.md#a) [up](../docs/there.md) [gone](missing.md) see ../shared/data\n")
    assert broken_links(page) == ["docs/page.md: mentions ../shared", "docs/page.md: missing.md does not exist"]


def test_the_readme_reads_in_ten_minutes():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move detail to docs/ (at most {README_MAX_LINES})"
