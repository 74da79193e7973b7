"""A SQL client of the published lake, run as its own process while refreshes run: it attaches the
published catalog afresh again and again, as a client would, and in each snapshot it sees checks that the
marts are the ones quality.publish_log records for the latest publish in that snapshot (a torn publish
would show marts of one run beside the log of another). Prints one JSON line once STOP exists.

    python -m tests.lake_reader STOP   (DETOUR_LAKE and DETOUR_LAKE_DATA in the environment)
"""

import json
import sys
import time
from pathlib import Path

from pipeline import settings
from pipeline.storage import lake
from pipeline.assets.marts import PUBLISHED_MARTS
from pipeline.assets.publish import rows_and_checksum_sql

LATEST_SQL = "SELECT mart, rows, checksum FROM quality.publish_log WHERE run_id = (SELECT arg_max(run_id, published_at) FROM quality.publish_log)"
RUN_SQL = "SELECT arg_max(run_id, published_at) FROM quality.publish_log"


def main(stop: Path) -> dict:
    seen, looks, torn, errors = set(), 0, [], []
    while not stop.exists():
        try:
            con = lake.connect(settings.lake_url(), settings.lake_data(), lake.PUBLISHED, read_only=True)
        except lake.NoLake:
            time.sleep(0.2)
            continue
        try:
            con.execute("BEGIN TRANSACTION")
            run = con.execute(RUN_SQL).fetchone()[0]
            logged = {mart: (rows, checksum) for mart, rows, checksum in con.execute(LATEST_SQL).fetchall()}
            found = {name: con.execute(rows_and_checksum_sql(f"marts.{name}")).fetchone() for name in PUBLISHED_MARTS}
            con.execute("COMMIT")
        except Exception as error:  # noqa: BLE001 - every error is reported, none stops the look
            errors.append(str(error).splitlines()[0][:200])
            continue
        finally:
            con.close()
        looks += 1
        seen.add(run)
        if found != logged:
            torn.append({"run": run, "logged": logged, "found": found})
    return {"looks": looks, "runs_seen": sorted(seen), "torn": torn, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
    sys.exit(0)
