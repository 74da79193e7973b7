"""`make ui`: `dagster dev` (webserver and daemon), stopped cleanly however it is stopped.

Started without a terminal (by a supervisor, or `make ui &`), `dagster dev` ignores SIGINT, as every
background job does, and has no SIGTERM handler: a signal to its process group left its webserver, daemon
and code servers running for minutes. Here it runs in a session of its own with SIGINT restored; SIGTERM or
SIGINT to this process (or its group) reaches it as SIGINT, its own clean shutdown, and whatever is left of
its session after STOP_SECONDS is killed. If this process dies first, the kernel sends it SIGINT."""

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STOP_SECONDS = 8
PR_SET_PDEATHSIG = 1


def in_child() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python then installs its KeyboardInterrupt handler
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def session_members(sid: int) -> list[int]:
    """Processes of session `sid` still alive (dagster dev and every process it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    members.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return members


def stop(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_SECONDS
    while session_members(child.pid) and time.monotonic() < deadline:
        child.poll()
        time.sleep(0.2)
    for pid in session_members(child.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    child.wait()


def main(argv: list[str] | None = None) -> int:
    dagster = Path(sys.executable).parent / "dagster"
    child = subprocess.Popen([str(dagster), "dev", *(sys.argv[1:] if argv is None else argv)],
                             start_new_session=True, preexec_fn=in_child)
    stopping = []

    def on_signal(signum, _frame):
        if not stopping:  # a group signal reaches this process more than once (SIGTERM, then make's SIGINT)
            stopping.append(signum)
            raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        return child.wait()
    except KeyboardInterrupt:
        stop(child)
        return 0


if __name__ == "__main__":
    sys.exit(main())
