"""The Dagster UI as the control room: a real `dagster dev` (webserver + daemon) on 127.0.0.1 in a
temporary DAGSTER_HOME. A materialization launched through GraphQL succeeds, the schedule and the
sensor are running, a new trade-flow file starts exactly one sensor run that loads it, and the
asset graph renders in headless Chromium."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import requests

from pipeline.partitions import month_tags
from tests.browser import OFFLINE_FLAGS, chromium
from tests.conftest import REPO, materialize
from tests.seededit import read_rows, write_rows

LOCATION = "pipeline.definitions"
REPOSITORY = "__repository__"
SCREENSHOT = REPO / "docs" / "asset_graph.png"
SELECTOR = '{repositoryLocationName: "%s", repositoryName: "%s"}' % (LOCATION, REPOSITORY)
STATES = """query {
  sensorsOrError(repositorySelector: %s) { ... on Sensors { results { name sensorState { status } } } }
  schedulesOrError(repositorySelector: %s) { ... on Schedules { results { name scheduleState { status } } } }
}""" % (SELECTOR, SELECTOR)
RUNS = """query { runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "seeds_changed"}]}) {
  ... on Runs { results { runId status tags { key value } } } } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DagsterDev:
    def __init__(self, port: int, env: dict, log: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
        response.raise_for_status()
        return response.json()["data"]

    def wait_until(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "dagster dev exited"
            try:
                value = condition()
                if value:
                    return value
            except requests.RequestException:
                pass
            time.sleep(1)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self):
        # dagster dev ignores signals sent to a background job: signal its whole process group
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=30)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture
def dagster_dev(seeds, tmp_path):
    warehouse = tmp_path / "warehouse" / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success  # the sensor then sees nothing new at start
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DETOUR_SEEDS_DIR": str(seeds),
        "DETOUR_WAREHOUSE": str(warehouse),
        "DETOUR_SENSOR_INTERVAL": "5",
    }
    server = DagsterDev(free_port(), env, tmp_path / "dagster_dev.log")
    try:
        server.wait_until(lambda: requests.get(f"{server.url}/server_info", timeout=5).ok, 120, "the webserver")
        server.seeds, server.warehouse = seeds, warehouse
        yield server
    finally:
        server.stop()
        print((tmp_path / "dagster_dev.log").read_text()[-3000:])


def run_status(server: DagsterDev, run_id: str) -> str:
    return server.graphql(STATUS, {"id": run_id})["runOrError"]["status"]


def wait_for_success(server: DagsterDev, run_id: str) -> None:
    status = server.wait_until(
        lambda: (s := run_status(server, run_id)) in ("SUCCESS", "FAILURE", "CANCELED") and s, 400, f"run {run_id}"
    )
    assert status == "SUCCESS"


def test_dagster_dev_runs_launches_schedules_senses_and_shows_the_graph(dagster_dev, tmp_path):
    server = dagster_dev

    def states():
        data = server.graphql(STATES)
        sensors = {r["name"]: r["sensorState"]["status"] for r in data["sensorsOrError"].get("results", [])}
        schedules = {r["name"]: r["scheduleState"]["status"] for r in data["schedulesOrError"].get("results", [])}
        return {**sensors, **schedules}

    assert server.wait_until(
        lambda: (s := states()) and s.get("refresh_all") == "RUNNING" and s.get("seeds_changed") == "RUNNING" and s,
        120, "the schedule and sensor to run",
    )

    tags = [{"key": k, "value": v} for k, v in month_tags("2024-12", "2024-12").items()]
    launched = server.graphql(LAUNCH, {"params": {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": "refresh"},
        "executionMetadata": {"tags": tags},
    }})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    wait_for_success(server, launched["run"]["runId"])

    header, rows = read_rows(server.seeds / "trade_flows" / "2024-12.csv")
    write_rows(server.seeds / "trade_flows" / "2024-12-late.csv", header,
               [{**row, "flow_id": f"LATE-{i}"} for i, row in enumerate(rows[:5])])
    sensor_runs = lambda: server.graphql(RUNS)["runsOrError"]["results"]  # noqa: E731
    (run,) = server.wait_until(sensor_runs, 120, "a run started by the sensor")
    wait_for_success(server, run["runId"])
    time.sleep(12)  # two more sensor ticks: the same file must not start another run
    assert len(sensor_runs()) == 1
    with duckdb.connect(str(server.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.trade_flows WHERE flow_id LIKE 'LATE-%'").fetchone()[0] == 5

    show_asset_graph(server, tmp_path)


def show_asset_graph(server: DagsterDev, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=[a for a in OFFLINE_FLAGS if a != "--headless"])
        page = browser.new_page(viewport={"width": 2400, "height": 1600})
        page.goto(f"{server.url}/locations/{LOCATION}/asset-groups/core", wait_until="networkidle")
        skip = page.get_by_role("button", name="Skip")  # the first-visit "Join the community" dialog
        if skip.count():
            skip.first.click()
        page.get_by_text("routed_flows").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)  # let the graph finish laying out
        text = page.inner_text("body")
        for name in ("trade_flows", "routed_flows", "route_exposure", "channel_mix", "published_warehouse"):
            assert name in text, name
        shot = tmp_path / "asset_graph.png"
        page.screenshot(path=str(shot))
        browser.close()
    if os.environ.get("DETOUR_UPDATE_SCREENSHOTS"):
        shutil.copy(shot, SCREENSHOT)
