"""A Dagster logger for `make run`: one line per finished step (what it built, when, how long, and the run's
peak memory so far), so a run on a terminal shows where it is instead of staying silent, and the step
that raised the peak shows in the line where it grows. The UI keeps Dagster's own loggers."""

import logging
import resource
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
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
            print(f"  {now - self.run_started:6.1f}s  {name:<42} {FINISHED[event.event_type]} in {took:.1f}s"
                  f"  (peak RSS {peak_mb:,.0f} MB)", file=self.stream, flush=True)


@dg.logger(description="One line per finished step: asset or check, elapsed time, step time, peak RSS so far (make run).")
def progress_logger(_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("detour.progress", level=logging.DEBUG)
    logger.addHandler(StepProgress())
    return logger
