"""The warehouse folder runs out of space or turns read-only mid-life: the refresh fails with the
system's reason, the published set stays the previous complete one, and once the folder is
writable again the next refresh is clean. Uses a small tmpfs, so it needs the right to mount."""

import os
import shutil
import subprocess

import dagster as dg
import pytest

from tests.conftest import materialize
from tests.seededit import set_cell
from tests.test_bad_inputs import published_state


@pytest.fixture
def small_folder(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320m", "tmpfs", str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a size-limited folder here ({mounted.stderr.strip() or 'not permitted'})")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def step_errors(build) -> str:
    """The failed steps' messages, innermost cause first, as detour-run prints them."""
    from pipeline.run import failures

    return "\n".join(failures(build.result))


def test_a_full_disk_fails_the_refresh_and_keeps_the_published_set(seeds, small_folder):
    warehouse = small_folder / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    before = published_state(warehouse)
    free = shutil.disk_usage(small_folder).free
    with open(small_folder / "filler", "wb") as filler:  # leave less room than one published set needs
        filler.write(b"\0" * (free - 8 * 1024 * 1024))
    set_cell(seeds / "trade_flows" / "2019-01.csv", 0, "value", "1000")

    full = materialize(seeds, warehouse)

    assert not full.result.success
    assert "No space left on device" in step_errors(full) or "out of disk" in step_errors(full).lower(), step_errors(full)
    assert published_state(warehouse) == before
    (small_folder / "filler").unlink()
    again = materialize(seeds, warehouse)
    assert again.result.success
    assert published_state(warehouse) != before
    assert sorted(p.name for p in (small_folder / "detour.sets").iterdir()) == [os.readlink(small_folder / "detour.current").split("/")[-1]]


def test_a_read_only_warehouse_folder_fails_the_refresh_and_keeps_the_published_set(seeds, small_folder):
    warehouse = small_folder / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    before = published_state(warehouse)
    subprocess.run(["mount", "-o", "remount,ro", str(small_folder)], check=True)
    set_cell(seeds / "trade_flows" / "2019-01.csv", 0, "value", "1000")

    read_only = materialize(seeds, warehouse)

    assert not read_only.result.success
    assert "Read-only file system" in step_errors(read_only), step_errors(read_only)
    assert published_state(warehouse) == before
    subprocess.run(["mount", "-o", "remount,rw", str(small_folder)], check=True)
    assert materialize(seeds, warehouse, instance=dg.DagsterInstance.ephemeral()).result.success
