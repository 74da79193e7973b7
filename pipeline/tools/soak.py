"""`make soak`: refreshes SIGKILLed at random moments while readers query the published warehouse.

In a fresh temporary folder (a copy of the seeds, its own warehouse and DAGSTER_HOME) it runs one
clean refresh, then N refreshes as `detour-run` processes, each in its own process group. A seeded
random subset of them (never two in a row, never the last) is killed with SIGKILL at a random moment
of a phase, the phases taken in turn (ingest, marts, publish, the swap itself, startup, transform,
checks); the refresh after a kill must be clean. Before each refresh one trade-flow value changes,
so every published set holds data of its own refresh and a mix-up shows. Two reader processes
(pipeline/tools/soak_reader.py) query the published warehouse throughout.

After every refresh the published set is checked: `current` names a complete set whose links all
point into it; the checksums its database's quality.publish_log recorded equal those recomputed from
its marts and from its Parquet files; its report.html and docs/ name the run that published it; that
run is the last refresh that got past its swap (a killed run before its swap leaves the previous set
current), holding that refresh's trade-flow value; after a clean refresh nothing else is left.

    python -m pipeline.tools.soak --refreshes 20 --kills 10 --seed 7
"""

import argparse
import csv
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from pipeline import settings
from pipeline.assets.marts import PUBLISHED_MARTS
from pipeline.assets.publish import KEY as PUBLISH_KEY
from pipeline.assets.publish import rows_and_checksum_sql
from pipeline.storage.warehouse import PUBLISHED_ENTRIES, Warehouse, run_id_of_page

REPO = Path(__file__).resolve().parents[2]
PUBLISH_STEP = PUBLISH_KEY.to_python_identifier()
# Taken in turn by the kills; "swap" kills right after `current` changed, while old sets are removed.
AIMS = ("ingest", "marts", "publish", "swap", "startup", "transform", "checks")
EDITED_FILE, EDITED_FLOW = Path("trade_flows") / "2019-01.csv", "S201901-00001"
CHECKS_LINE = re.compile(r"asset checks: (\d+) passed, (\d+) warned, (\d+) failed")
STEP_EVENTS_SQL = "SELECT dagster_event_type, step_key FROM event_logs WHERE dagster_event_type IN ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE') ORDER BY id"
LATEST_PUBLISH_SQL = """
SELECT mart, rows, checksum FROM quality.publish_log
WHERE run_id = $run_id ORDER BY mart
"""
LATEST_RUN_SQL = "SELECT arg_max(run_id, published_at) FROM quality.publish_log"
LOGGED_RUNS_SQL = "SELECT run_id FROM quality.publish_log GROUP BY run_id ORDER BY min(published_at)"
FLOW_VALUE_SQL = "SELECT value FROM core.trade_flows WHERE flow_id = $flow_id"
POLL_SECONDS = 0.1
SWAP_POLL_SECONDS = 0.002


def phase_of(step_key: str) -> str:
    if step_key.startswith("ref__") or step_key == "core__trade_flows":
        return "ingest"
    if step_key.startswith("marts__"):
        return "marts"
    if step_key == "great_expectations_suites":
        return "checks"
    if step_key == PUBLISH_STEP:
        return "publish"
    return "transform"


@dataclass
class Refresh:
    number: int
    aim: str | None = None
    phase_hit: str | None = None
    killed_at: float | None = None
    exit_code: int | None = None
    run_id: str | None = None
    checks_failed: int | None = None
    published_run: str | None = None
    leftovers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.killed_at is not None

    @property
    def clean(self) -> bool:
        return self.exit_code == 0 and self.checks_failed == 0


class Soak:
    def __init__(self, folder: Path, seeds: Path):
        self.folder = folder
        self.seeds = Path(shutil.copytree(seeds, folder / "seeds"))
        self.warehouse = Warehouse(path=str(folder / "warehouse" / "detour.duckdb"))
        self.dagster_home = folder / "dagster"
        self.dagster_home.mkdir()
        (self.dagster_home / "dagster.yaml").symlink_to(REPO / "dagster.yaml")
        self.logs = folder / "logs"
        self.logs.mkdir()
        self.env = {
            **os.environ,
            "DETOUR_SEEDS_DIR": str(self.seeds),
            "DETOUR_WAREHOUSE": str(self.warehouse.published_path),
            "DAGSTER_HOME": str(self.dagster_home),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        header, rows = self.read_edited()
        self.base_value = Decimal(next(row["value"] for row in rows if row["flow_id"] == EDITED_FLOW))
        self.phase_windows: dict[str, tuple[float, float]] = {}

    # --- seeds ---------------------------------------------------------------------------------

    def read_edited(self) -> tuple[list[str], list[dict]]:
        with open(self.seeds / EDITED_FILE, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            return list(reader.fieldnames or []), list(reader)

    def flow_value(self, number: int) -> Decimal:
        """Refresh `number`'s value of the edited flow: each refresh publishes data of its own."""
        return self.base_value + number

    def edit_seeds(self, number: int) -> None:
        header, rows = self.read_edited()
        for row in rows:
            if row["flow_id"] == EDITED_FLOW:
                row["value"] = str(self.flow_value(number))
        with open(self.seeds / EDITED_FILE, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    # --- one refresh ---------------------------------------------------------------------------

    def run_logs(self) -> set[Path]:
        return {p for p in (self.dagster_home / "history" / "runs").glob("*.db") if p.name != "index.db"}

    def current_set(self) -> str | None:
        try:
            return os.readlink(self.warehouse.current_path)
        except FileNotFoundError:
            return None

    def refresh(self, number: int, aim: str | None, rng: random.Random) -> Refresh:
        """Run `detour-run` once; with an aim, SIGKILL its process group at a random moment of that phase."""
        self.edit_seeds(number)
        done = Refresh(number, aim)
        logs_before = self.run_logs()
        log = self.logs / f"refresh-{number:02d}.log"
        started = time.monotonic()
        with open(log, "w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipeline.run"], cwd=self.folder, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            self.follow(process, done, rng, RunWatch(self, logs_before, started))
        except BaseException:  # the soak itself stopped (SIGTERM, Ctrl-C): leave no refresh behind
            os.killpg(process.pid, signal.SIGKILL)
            raise
        done.exit_code = process.wait()
        done.seconds = time.monotonic() - started
        if not done.killed:
            found = CHECKS_LINE.search(log.read_text())
            done.checks_failed = int(found.group(3)) if found else None
        return done

    def follow(self, process: subprocess.Popen, done: Refresh, rng: random.Random, watch: "RunWatch") -> None:
        """Watch the refresh's steps until it ends or, aimed at a phase, kill it at a random moment of it."""
        aim, started = done.aim, watch.started
        kill_after = self.kill_moment(aim, rng) if aim not in (None, "swap") else None
        set_before = self.current_set()
        while process.poll() is None:
            watch.poll()
            if aim == "swap" and "publish" in watch.phases_seen:
                if self.wait_for_swap(process, set_before):
                    time.sleep(rng.uniform(0, 0.05))
                    done.killed_at = self.kill(process, watch, done, set_before)
                break
            phase_started = 0.0 if aim == "startup" else watch.phase_started.get(aim)
            if kill_after is not None and phase_started is not None and time.monotonic() - started >= phase_started + kill_after:
                done.killed_at = self.kill(process, watch, done, set_before)
                break
            time.sleep(POLL_SECONDS)
        process.wait()
        done.run_id = watch.run_id
        if not self.phase_windows:  # the first, clean refresh times the phases later kills aim at
            self.phase_windows = watch.windows(time.monotonic() - started)

    def kill_moment(self, aim: str, rng: random.Random) -> float:
        """Seconds into the aimed phase, drawn within that phase's length in the first clean refresh."""
        begin, end = self.phase_windows[aim]
        return rng.uniform(0, end - begin)

    def wait_for_swap(self, process: subprocess.Popen, set_before: str | None) -> bool:
        """Whether the publish swapped `current` before the process ended."""
        while process.poll() is None:
            if self.current_set() != set_before:
                return True
            time.sleep(SWAP_POLL_SECONDS)
        return False

    def kill(self, process: subprocess.Popen, watch: "RunWatch", done: Refresh, set_before: str | None) -> float:
        watch.poll()  # the step running at the kill, as late as possible
        os.killpg(process.pid, signal.SIGKILL)
        running = watch.running()
        if not watch.events:
            done.phase_hit = "startup"
            return time.monotonic() - watch.started
        step = running or watch.events[-1][1]  # between two steps: the one that just ended
        phase = phase_of(step)
        if phase == "publish":
            phase = f"publish, {'after' if self.current_set() != set_before else 'before'} swap"
        done.phase_hit = f"{phase} ({step})" if running else f"{phase} (after {step})"
        return time.monotonic() - watch.started

    # --- checks of the published set -----------------------------------------------------------

    def check_published(self, published_runs: list[str], number: int) -> list[str]:
        """Problems of the published set, expected to be the last of `published_runs` (every run that
        got past its swap, in order, which its publish_log must name and no other) with refresh
        `number`'s data."""
        run_id = published_runs[-1]
        target = self.current_set()
        if target is None:
            return [f"{self.warehouse.current_path} is missing"]
        folder = self.warehouse.current_path.parent / target
        if folder.parent != self.warehouse.sets_path or not folder.is_dir():
            return [f"{self.warehouse.current_path} points at {target}, not a set in {self.warehouse.sets_path}"]
        problems = []
        database = folder / self.warehouse.published_path.name
        for entry in (database.name, *PUBLISHED_ENTRIES):
            link = self.warehouse.published_path.with_name(entry)
            if not (folder / entry).exists():
                problems.append(f"set {folder.name} has no {entry}")
            elif link.resolve() != (folder / entry).resolve():
                problems.append(f"{link} leads to {link.resolve()}, not into the current set")
        if problems:
            return problems
        with duckdb.connect(str(database), read_only=True) as con:
            published_run = con.execute(LATEST_RUN_SQL).fetchone()[0]
            logged = {mart: (rows, checksum) for mart, rows, checksum in con.execute(LATEST_PUBLISH_SQL, {"run_id": published_run}).fetchall()}
            if sorted(logged) != sorted(PUBLISHED_MARTS):
                problems.append(f"publish_log of run {published_run} names {sorted(logged)}, not every mart")
            for mart, recorded in logged.items():
                in_database = con.execute(rows_and_checksum_sql(f"marts.{mart}")).fetchone()
                in_parquet = con.execute(rows_and_checksum_sql("read_parquet($path)"), {"path": str(folder / "parquet" / f"{mart}.parquet")}).fetchone()
                if in_database != recorded:
                    problems.append(f"marts.{mart}: {in_database} in the database, publish_log says {recorded}")
                if in_parquet != recorded:
                    problems.append(f"parquet/{mart}.parquet: {in_parquet}, publish_log says {recorded}")
            values = [v for (v,) in con.execute(FLOW_VALUE_SQL, {"flow_id": EDITED_FLOW}).fetchall()]
            logged_runs = [run for (run,) in con.execute(LOGGED_RUNS_SQL).fetchall()]
        if logged_runs != published_runs:
            unpublished = [run for run in logged_runs if run not in published_runs]
            problems.append(f"publish_log names runs {[r[:8] for r in logged_runs]}, the runs that published are "
                            f"{[r[:8] for r in published_runs]}" + (f" ({[r[:8] for r in unpublished]} never did)" if unpublished else ""))
        for page in (folder / "report.html", folder / "docs" / "index.html"):
            named = run_id_of_page(page) if page.exists() else "none (no page)"
            if named != published_run:
                problems.append(f"{page.relative_to(folder)} names run {named}, the database run {published_run}")
        if published_run != run_id:
            problems.append(f"the published set is run {published_run}'s, expected run {run_id}'s")
        expected = self.flow_value(number)
        if values != [float(expected)]:
            problems.append(f"flow {EDITED_FLOW} has value {values} in the published set, refresh {number} wrote {expected}")
        return problems

    def leftovers(self) -> list[str]:
        """Whatever is in the warehouse folder besides the current set, its links and the build."""
        w = self.warehouse
        expected = {w.published_path.name, w.current_path.name, w.sets_path.name, w.build_path.name, w.build_docs_path.name, *PUBLISHED_ENTRIES}
        found = [p.name for p in w.published_path.parent.iterdir() if p.name not in expected]
        current = self.current_set()
        found += [f"{w.sets_path.name}/{p.name}" for p in w.sets_path.iterdir() if current is None or p.name != Path(current).name]
        return sorted(found)


class RunWatch:
    """Follows a detour-run process through its Dagster event log: which steps started and ended, when."""

    def __init__(self, soak: Soak, logs_before: set[Path], started: float):
        self.soak, self.logs_before, self.started = soak, logs_before, started
        self.log: Path | None = None
        self.events: list[tuple[str, str]] = []
        self.seen_at: list[float] = []
        self.phase_started: dict[str, float] = {}

    @property
    def run_id(self) -> str | None:
        return self.log.stem if self.log else None

    @property
    def phases_seen(self) -> set[str]:
        return set(self.phase_started)

    def poll(self) -> None:
        if self.log is None:
            new = self.soak.run_logs() - self.logs_before
            if not new:
                return
            (self.log,) = new
        try:
            with sqlite3.connect(f"file:{self.log}?mode=ro", uri=True, timeout=1) as con:
                events = con.execute(STEP_EVENTS_SQL).fetchall()
        except sqlite3.Error:  # being created or written: read it at the next poll
            return
        now = time.monotonic() - self.started
        for event_type, step_key in events[len(self.events):]:
            self.events.append((event_type, step_key))
            self.seen_at.append(now)
            if event_type == "STEP_START":
                self.phase_started.setdefault(phase_of(step_key), now)

    def running(self) -> str | None:
        started = [key for kind, key in self.events if kind == "STEP_START"]
        ended = {key for kind, key in self.events if kind != "STEP_START"}
        return next((key for key in reversed(started) if key not in ended), None)

    def windows(self, seconds: float) -> dict[str, tuple[float, float]]:
        """Each phase's (first step start, last step end) in seconds from launch; startup before the first step."""
        windows = {"startup": (0.0, min(self.seen_at, default=seconds))}
        for (event_type, step_key), at in zip(self.events, self.seen_at, strict=True):
            phase = phase_of(step_key)
            begin, _ = windows.get(phase, (at, at))
            windows[phase] = (begin, at)
        return windows


def kill_schedule(refreshes: int, kills: int, rng: random.Random) -> dict[int, str]:
    """Which refreshes (1..N) are killed and the phase each aims at: never two in a row, never the
    last, so every kill is followed by a refresh that must be clean."""
    if kills > refreshes // 2:
        raise SystemExit(f"--kills {kills}: at most {refreshes // 2} of {refreshes} refreshes can be killed, each followed by a clean one")
    slots = sorted(rng.sample(range(refreshes - kills), kills))
    return {slot + i + 1: AIMS[i % len(AIMS)] for i, slot in enumerate(slots)}


def start_readers(soak: Soak, count: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-m", "pipeline.tools.soak_reader", str(soak.warehouse.published_path)],
                         env=soak.env, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]


def stop_readers(readers: list[subprocess.Popen]) -> list[dict]:
    counts = []
    for reader in readers:
        reader.send_signal(signal.SIGTERM)
        out, _ = reader.communicate(timeout=60)
        counts.append(json.loads(out.strip().splitlines()[-1]) if out.strip() else {"queries": 0, "errors": 1, "clean_reconnects": 0, "messages": [f"reader exited {reader.returncode} without counts"]})
    return counts


def print_refresh(r: Refresh, next_clean: bool | None) -> None:
    kill = f"{r.aim} → {r.phase_hit} at {r.killed_at:.1f}s" if r.killed else (f"{r.aim}: missed, run ended" if r.aim else "-")
    status = "killed" if r.killed else ("clean" if r.clean else f"FAILED (exit {r.exit_code}, checks failed {r.checks_failed})")
    print(f"{r.number:>3}  {status:<8}{r.seconds:>7.1f}s  {kill:<62} published {str(r.published_run)[:8]}"
          f"  {'consistent' if not r.problems else 'INCONSISTENT'}"
          + (f"  leftovers {len(r.leftovers)}" if r.leftovers else "")
          + ("" if next_clean is None else f"  after a kill: {'clean' if next_clean else 'NOT CLEAN'}"), flush=True)
    for problem in r.problems:
        print(f"       ! {problem}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Refreshes SIGKILLed at random moments while readers query the published warehouse.")
    parser.add_argument("--refreshes", type=int, default=20, help="refreshes after the first clean one (default 20)")
    parser.add_argument("--kills", type=int, help="how many of them to SIGKILL (default: half)")
    parser.add_argument("--seed", type=int, help="random seed for which refreshes are killed and when (default: drawn, printed)")
    parser.add_argument("--readers", type=int, default=2, help="reader processes querying throughout (default 2)")
    parser.add_argument("--folder", type=Path, help="work folder (default: a new temporary folder, removed when all is consistent)")
    parser.add_argument("--json", type=Path, help="also write the summary figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kills = args.refreshes // 2 if args.kills is None else args.kills
    seed = random.SystemRandom().randrange(10**6) if args.seed is None else args.seed
    rng = random.Random(seed)
    schedule = kill_schedule(args.refreshes, kills, rng)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="detour-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    soak = Soak(folder, settings.seeds_dir())
    print(f"soak: {args.refreshes} refreshes, {kills} SIGKILLed (seed {seed}: refreshes {', '.join(f'{n} {a}' for n, a in schedule.items())}), "
          f"{args.readers} readers, in {folder}", flush=True)
    wall = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # unwinds: the running refresh is killed, readers stopped

    first = soak.refresh(0, None, rng)
    first.published_run = first.run_id
    published_runs, published_number = [first.run_id], 0  # every run that got past its swap; the current set's refresh
    if first.clean:
        first.problems = soak.check_published(published_runs, published_number)
    else:
        first.problems = [f"the first refresh failed: see {soak.logs / 'refresh-00.log'}"]
    print_refresh(first, None)
    if first.problems:
        return 1
    readers = start_readers(soak, args.readers)
    results, after_kill = [], []
    try:
        for number in range(1, args.refreshes + 1):
            before = soak.current_set()
            r = soak.refresh(number, schedule.get(number), rng)
            if not r.killed or soak.current_set() != before:  # a killed run past its swap published its set
                published_runs.append(r.run_id)
                published_number = number
            r.published_run = published_runs[-1]
            r.problems = soak.check_published(published_runs, published_number)
            r.leftovers = soak.leftovers()
            if not r.killed:
                if not r.clean:
                    r.problems.append(f"refresh failed: see {soak.logs / f'refresh-{number:02d}.log'}")
                r.problems += [f"left over after a clean refresh: {name}" for name in r.leftovers]
            previous_killed = bool(results) and results[-1].killed
            if previous_killed:
                after_kill.append(r.clean)
            results.append(r)
            print_refresh(r, r.clean if previous_killed else None)
    finally:
        reader_counts = stop_readers(readers)

    killed = [r for r in results if r.killed]
    figures = {
        "seed": seed,
        "refreshes": len(results),
        "kills": len(killed),
        "kill_phases": dict(Counter(r.phase_hit.split(" (")[0] for r in killed)),
        "inconsistent_sets": sum(1 for r in [first, *results] if r.problems),
        "failed_refreshes": sum(1 for r in results if not r.killed and not r.clean),
        "reader_queries": sum(c["queries"] for c in reader_counts),
        "reader_errors": sum(c["errors"] for c in reader_counts),
        "clean_reconnects": sum(c["clean_reconnects"] for c in reader_counts),
        "reader_error_messages": [m for c in reader_counts for m in c["messages"]],
        "next_runs_clean": sum(after_kill),
        "next_runs": len(after_kill),
        "wall_seconds": round(time.monotonic() - wall, 1),
    }
    print_summary(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = not (figures["inconsistent_sets"] or figures["failed_refreshes"] or figures["reader_errors"]
              or figures["next_runs_clean"] != figures["next_runs"])
    if ok and args.folder is None:
        shutil.rmtree(folder, ignore_errors=True)
    elif not ok:
        print(f"\nlogs and warehouse kept in {folder}")
    return 0 if ok else 1


def print_summary(f: dict) -> None:
    phases = ", ".join(f"{phase} {n}" for phase, n in sorted(f["kill_phases"].items()))
    rows = [
        ("refreshes", f"{f['refreshes']} (after a first clean one)"),
        ("kills (SIGKILL)", f"{f['kills']}" + (f" ({phases})" if phases else "")),
        ("inconsistent published sets", f["inconsistent_sets"]),
        ("failed refreshes (not killed)", f["failed_refreshes"]),
        ("reader queries", f["reader_queries"]),
        ("reader errors", f["reader_errors"]),
        ("clean reconnects", f["clean_reconnects"]),
        ("next run clean after a kill", f"{f['next_runs_clean']} of {f['next_runs']}"),
        ("wall time", f"{f['wall_seconds'] / 60:.1f} min"),
        ("seed", f["seed"]),
    ]
    print("\nsoak summary")
    for name, value in rows:
        print(f"  {name:<32}{value}")
    for message in f["reader_error_messages"]:
        print(f"  reader error: {message}")


if __name__ == "__main__":
    sys.exit(main())
