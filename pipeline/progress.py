"""A Dagster logger for `make run`: one line per finished step (what it built, when, how long), so a
run on a terminal shows where it is instead of staying silent. The UI keeps Dagster's own loggers."""

import logging
import sys
import time

import dagster as dg

FINISHED = {
    dg.DagsterEventType.STEP_SUCCESS: "done",
    dg.DagsterEventType.STEP_FAILURE: "FAILED",
    dg.DagsterEventType.STEP_SKIPPED: "skipped",
}


class StepProgress(logging.Handler):
    def __init__(self, stream=None):
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stdout
        self.run_started = time.monotonic()
        self.step_started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None or not event.step_key:
            return
        now = time.monotonic()
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.step_started[event.step_key] = now
        elif event.event_type in FINISHED:
            took = now - self.step_started.get(event.step_key, now)
            name = event.step_key.replace("__", "/")
            print(f"  {now - self.run_started:6.1f}s  {name:<42} {FINISHED[event.event_type]} in {took:.1f}s",
                  file=self.stream, flush=True)


@dg.logger(description="One line per finished step: asset or check, elapsed time, step time (make run).")
def progress_logger(_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("detour.progress", level=logging.DEBUG)
    logger.addHandler(StepProgress())
    return logger
