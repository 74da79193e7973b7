"""The Dagster UI as the control room: a real `dagster dev` (webserver + daemon) on 127.0.0.1 in a
temporary DAGSTER_HOME. No asset asks for a partition; `refresh_all`, launched by a click on Launch Run in Chromium,
refreshes every month in one run, one materialization per asset; the schedule and the sensors are running; a new trade-flow file
starts exactly one sensor run that loads it; one mart materialized alone reaches the published
file, while one whose blocking check fails publishes nothing; the asset graph renders in Chromium; the
seeds hold hostile strings (tests/hostile.py), which the UI's metadata shows as text."""

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

from pipeline.text import visible
from tests.browser import OFFLINE_FLAGS, chromium, keep_screenshot
from tests.conftest import REPO, materialize
from tests.hostile import HOSTILE, plant
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
FLOWS_NODE = """query { assetNodes(assetKeys: [{path: ["core", "trade_flows"]}]) {
  isPartitioned assetMaterializations(limit: 1000) { runId } } }"""
ALL_RUNS = """query { runsOrError { ... on Runs { results { runId jobName } } } }"""
CLAIM = "trade_2019_morgulov"
WITHHELD = """query { assetNodes(assetKeys: [{path: ["published_warehouse"]}]) { assetObservations(limit: 1) { description } } }"""


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
    plant(seeds)
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
        "DETOUR_REFRESH_CRON": "0 0 1 1 *",  # the daily refresh must not start in the middle of the test
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
        lambda: (s := states()) and all(s.get(n) == "RUNNING" for n in ("refresh_all", "seeds_changed", "publish_on_change", "publish_withheld")) and s,
        120, "the schedule and sensors to run",
    )

    # nothing to choose before a launch: no asset is partitioned (the months are a run tag, pipeline/months.py)
    (node,) = server.graphql(FLOWS_NODE)["assetNodes"]
    assert node["isPartitioned"] is False

    # refresh_all, clicked in the browser as the README says: one run, every month, one materialization per asset
    run_id = launch_by_click(server)
    wait_for_success(server, run_id)
    (node,) = server.graphql(FLOWS_NODE)["assetNodes"]
    assert [m["runId"] for m in node["assetMaterializations"]] == [run_id]
    assert [r["jobName"] for r in server.graphql(ALL_RUNS)["runsOrError"]["results"]] == ["refresh_all"]
    show_hostile_examples(server)  # before the sensor's run checks one month, without them

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

    publish_follows_a_single_mart(server)
    show_asset_graph(server, tmp_path)


def published_claim(warehouse: Path) -> float:
    """claimed_value of CLAIM as a SQL client sees it: another process, the published file, read-only."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "duckdb"), "-readonly", "-noheader", "-csv", str(warehouse),
         "-c", f"SELECT claimed_value FROM marts.claims_check WHERE claim_id = '{CLAIM}'"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return float(done.stdout.strip())


def materialize_claims_check(server: DagsterDev, change: str) -> str:
    """Change ref.claims in the build file, then materialize marts/claims_check alone in the UI's way."""
    with duckdb.connect(str(server.warehouse.with_name("detour.build.duckdb"))) as con:
        con.execute(change)
    launched = server.graphql(LAUNCH, {"params": {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": "refresh",
                     "assetSelection": [{"path": ["marts", "claims_check"]}]},
    }})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    return server.wait_until(lambda: (s := run_status(server, run_id)) in ("SUCCESS", "FAILURE", "CANCELED") and s, 400, run_id)


def launch_by_click(server: DagsterDev) -> str:
    """Jobs → refresh_all → Launch Run in Chromium: nothing to choose first (no partition box) and no "Are you
    sure?" before the run starts; returns the run's id from the page the click opens."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=OFFLINE_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{server.url}/locations/{LOCATION}/jobs/refresh_all/playground", wait_until="networkidle")
        launch = page.get_by_role("button", name="Launch Run")
        launch.wait_for(timeout=60_000)
        launchpad = page.inner_text("body")
        launch.click()
        page.wait_for_url("**/runs/*", timeout=60_000)
        dialogs = page.get_by_role("dialog").count()
        run_id = page.url.rstrip("/").rsplit("/", 1)[1]
        browser.close()
    assert "Partition" not in launchpad and "No errors" in launchpad, launchpad[-1500:]
    assert dialogs == 0  # no confirmation asked
    return run_id


def publish_follows_a_single_mart(server: DagsterDev) -> None:
    before = published_claim(server.warehouse)
    status = materialize_claims_check(server, f"UPDATE ref.claims SET value = 12345 WHERE claim_id = '{CLAIM}'")
    assert status == "SUCCESS"
    ended = time.monotonic()
    server.wait_until(lambda: published_claim(server.warehouse) == 12345, 180, "the publish that follows the mart")
    print(f"published {time.monotonic() - ended:.1f} s after the mart's run ended (was {before})")

    # every claim's scope unknown: no data_value, the mart's blocking GE check fails, nothing is published
    status = materialize_claims_check(server, "UPDATE ref.claims SET scope = 'XXX-YYY', value = 777")
    assert status == "FAILURE"
    time.sleep(20)  # four ticks of publish_on_change
    assert published_claim(server.warehouse) == 12345
    (node,) = server.wait_until(lambda: (n := server.graphql(WITHHELD)["assetNodes"]) and n[0]["assetObservations"] and n,
                                60, "the note on published_warehouse")
    assert node["assetObservations"][0]["description"].startswith("Not published: run ")


def show_asset_graph(server: DagsterDev, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=[a for a in OFFLINE_FLAGS if a != "--headless"])
        page = browser.new_page(viewport={"width": 2400, "height": 1600})
        page.goto(f"{server.url}/locations/{LOCATION}/asset-groups/core", wait_until="networkidle")
        page.get_by_text("routed_flows").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)  # let the graph finish laying out
        text = page.inner_text("body")
        for name in ("trade_flows", "routed_flows", "route_exposure", "channel_mix", "published_warehouse"):
            assert name in text, name
        assert "Join the Dagster community" not in text  # dagster.yaml turns the first-visit dialog off
        shot = tmp_path / "asset_graph.png"
        page.screenshot(path=str(shot))
        browser.close()
    keep_screenshot(shot, SCREENSHOT)


def show_hostile_examples(server: DagsterDev) -> None:
    """The trade-flow contract check's examples, a markdown table of the rows kept aside, as the UI shows
    it: each hostile bad value is one cell's text (control characters as escapes), and nothing ran."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=OFFLINE_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.goto(f"{server.url}/assets/core/trade_flows?view=checks", wait_until="networkidle")
        page.get_by_text("contract", exact=True).first.click()
        examples = page.locator("tr", has=page.get_by_text("examples", exact=True))
        examples.get_by_text("[Show Markdown]").click()
        dialog = page.get_by_role("dialog").filter(has_text="bad_value")
        dialog.locator("td").first.wait_for()
        cells = dialog.locator("td").all_text_contents()
        injected = page.evaluate("""() => [typeof window.__pwned, document.querySelectorAll('img[onerror]').length,
                                          document.querySelectorAll('a[href^="javascript:"]').length]""")
        browser.close()
    assert [visible(v) for v in HOSTILE.values()] == cells[4:5 * len(HOSTILE):5]  # the bad_value column
    assert injected == ["undefined", 0, 0]
