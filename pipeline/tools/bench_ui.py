"""`make bench-ui`: the one-click refresh launched in the UI against `make run`, side by side.

On a copy of the shipped seeds, in a temporary DAGSTER_HOME, it builds the warehouse once (so both start
warm), starts `dagster dev` (webserver and daemon, as `make ui` does), then ROUNDS times in turn: times
`detour-run` from start to exit, and times the `refresh_all` job launched through the webserver's GraphQL
API (what Launchpad → Launch run sends) from the launch to the run's success, as a user waits for it.
The daemon's schedule and sensors stay quiet: the seeds do not change and the schedule is set to 1 January.

    python -m pipeline.tools.bench_ui --rounds 3
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status startTime endTime } } }"""
SELECTOR = {"repositoryLocationName": "pipeline.definitions", "repositoryName": "__repository__", "jobName": "refresh_all"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str, variables: dict) -> dict:
    response = requests.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    response.raise_for_status()
    return response.json()["data"]


def timed_cli(env: dict, log: Path) -> float:
    started = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run([sys.executable, "-m", "pipeline.run"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    if done.returncode:
        raise SystemExit(f"detour-run failed: see {log}")
    return time.perf_counter() - started


def timed_ui(url: str) -> tuple[float, float]:
    """Seconds from the launch to success as the user sees it, and the run's own start-to-end."""
    started = time.perf_counter()
    launched = graphql(url, LAUNCH, {"params": {"selector": SELECTOR}})["launchRun"]
    if launched["__typename"] != "LaunchRunSuccess":
        raise SystemExit(f"launch failed: {launched}")
    run_id = launched["run"]["runId"]
    while True:
        run = graphql(url, STATUS, {"id": run_id})["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(0.25)
    if run["status"] != "SUCCESS":
        raise SystemExit(f"run {run_id} ended {run['status']}")
    return time.perf_counter() - started, run["endTime"] - run["startTime"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="detour-bench-ui-"))
    seeds = Path(shutil.copytree(REPO / "seeds", work / "seeds"))
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DETOUR_SEEDS_DIR": str(seeds),
           "DETOUR_WAREHOUSE": str(work / "warehouse" / "detour.duckdb"), "DETOUR_REFRESH_CRON": "0 0 1 1 *"}
    timed_cli(env, work / "first.log")
    port = free_port()
    with open(work / "dagster_dev.log", "w") as log:
        server = subprocess.Popen([str(Path(sys.executable).parent / "dagster"), "dev", "-m", "pipeline.definitions",
                                   "-h", "127.0.0.1", "-p", str(port)], env=env, cwd=home, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(f"{url}/server_info", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"dagster dev did not start: see {work / 'dagster_dev.log'}")
            time.sleep(1)
        rows = []
        for i in range(args.rounds):
            cli = timed_cli(env, work / f"cli-{i}.log")
            ui, ui_run = timed_ui(url)
            rows.append((cli, ui, ui_run))
            print(f"round {i + 1}: make run {cli:6.1f} s   UI launch to success {ui:6.1f} s (run {ui_run:5.1f} s)"
                  f"   UI / make run {ui / cli:4.2f}", flush=True)
        mean = [sum(r[k] for r in rows) / len(rows) for k in range(3)]
        print(f"mean:    make run {mean[0]:6.1f} s   UI launch to success {mean[1]:6.1f} s (run {mean[2]:5.1f} s)"
              f"   UI / make run {mean[1] / mean[0]:4.2f}")
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
