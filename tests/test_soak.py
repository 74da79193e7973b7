"""The bounded soak CI runs: three refreshes SIGKILLed (one in ingest, one in the marts, one in the
publish) while two readers query, with real processes and real DuckDB files."""

import json
import os
import subprocess
import sys

from tests.conftest import REPO


def test_three_killed_refreshes_leave_consistent_sets_clean_next_runs_and_no_reader_errors(tmp_path):
    figures_file = tmp_path / "soak.json"
    soak = subprocess.Popen(
        [sys.executable, "-m", "pipeline.tools.soak", "--refreshes", "6", "--kills", "3", "--seed", "11",
         "--folder", str(tmp_path / "soak"), "--json", str(figures_file)],
        cwd=REPO, env={**os.environ, "DETOUR_SEEDS_DIR": str(REPO / "seeds")}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        out, _ = soak.communicate(timeout=1800)  # about 7 minutes on an idle machine
    except subprocess.TimeoutExpired:
        soak.terminate()  # the soak kills its running refresh and stops its readers
        out, _ = soak.communicate(timeout=120)
        raise AssertionError(f"the soak did not finish in 30 minutes:\n{out}") from None
    figures = json.loads(figures_file.read_text())
    assert soak.returncode == 0, out
    assert figures["refreshes"] == 6 and figures["kills"] == 3
    assert len(figures["kill_phases"]) >= 2  # aimed at ingest, marts and publish; a slower run can shift one
    assert figures["inconsistent_sets"] == 0 and figures["failed_refreshes"] == 0
    assert figures["next_runs"] == 3 and figures["next_runs_clean"] == 3
    assert figures["reader_queries"] > 100 and figures["reader_errors"] == 0, figures["reader_error_messages"]
