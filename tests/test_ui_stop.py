"""`make ui` under a supervisor or as a background job (no terminal, SIGINT ignored as a shell ignores it for
`make ui &`): a SIGTERM or SIGINT to its process group stops every process it started within 10 s (before
pipeline/ui.py, 6 processes were left running for minutes)."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every living process below `pid`, and every process in the sessions they lead (dagster dev has its own)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry.name)] = (int(fields[1]), int(fields[3]))  # ppid, session
    found, frontier = set(), {pid}
    while frontier:
        found |= frontier
        frontier = {p for p, (ppid, _) in parents.items() if ppid in frontier} - found
    sessions = {parents[p][1] for p in found if p in parents}
    return {p for p, (_, sid) in parents.items() if sid in sessions - {os.getsid(0)}} | found - {pid}


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_make_ui_stops_every_process_it_started_within_ten_seconds(signum, seeds, tmp_path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home"), "DETOUR_UI_PORT": str(port),
           "DETOUR_SEEDS_DIR": str(seeds), "DETOUR_WAREHOUSE": str(tmp_path / "warehouse" / "detour.duckdb"),
           "DETOUR_REFRESH_CRON": "0 0 1 1 *"}
    with open(tmp_path / "ui.log", "w") as log:
        make = subprocess.Popen(["make", "ui"], cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.monotonic() + 180
        while True:
            assert make.poll() is None, (tmp_path / "ui.log").read_text()[-2000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the webserver did not start"
            time.sleep(1)
        time.sleep(3)  # the daemon and the code server are up too
        started = descendants(make.pid) | {make.pid}
        assert len(started) >= 4, started  # make, the wrapper, dagster dev, its webserver and daemon

        os.killpg(make.pid, signum)
        stopped_at = time.monotonic()
        while alive(started) and time.monotonic() - stopped_at < 10:
            time.sleep(0.2)
        assert alive(started) == set(), f"{len(alive(started))} processes left 10 s after the signal"
    finally:
        for pid in alive(descendants(make.pid) | {make.pid}):
            os.kill(pid, signal.SIGKILL)
        make.wait()
