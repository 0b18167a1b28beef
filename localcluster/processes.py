"""Starting and stopping the control plane's processes, each in its own session with its log.

Processes are started detached (a new session each) so that `make cluster` can leave them
running after it returns; stopping signals the whole session and waits until nothing is left.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def spawn(command: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start `command` detached, appending its output to `log`, and return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    _children[process.pid] = process
    return process.pid


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop(pid: int, timeout: float = 10.0) -> None:
    """Send SIGTERM to the process's session, then SIGKILL if it outlives `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not alive(pid):
            break
    _children.pop(pid, None)


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of a log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# Popen objects of the processes started by this interpreter, so that they can be reaped.
_children: dict[int, subprocess.Popen[bytes]] = {}
