"""The command line behind `make cluster` and `make cluster-down`: it starts the control plane
detached and idempotently, kubectl reaches it through the kubeconfig it writes, and stopping it
leaves no process behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from localcluster import LocalCluster
from localcluster.processes import alive

pytestmark = pytest.mark.integration


def _localcluster(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localcluster", "--state-dir", str(state), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cluster_starts_once_answers_kubectl_and_stops_without_leftovers(tmp_path: Path) -> None:
    state = tmp_path / "cluster"

    first = _localcluster(state, "up", "--no-kwok")
    second = _localcluster(state, "up", "--no-kwok")
    recorded = LocalCluster.attach(state)
    assert recorded is not None
    readyz = subprocess.run(
        [
            str(state / "bin" / "kubectl"),
            "--kubeconfig",
            str(state / "kubeconfig"),
            "get",
            "--raw",
            "/readyz",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    down = _localcluster(state, "down")
    status = _localcluster(state, "status")

    assert first.returncode == 0, first.stderr
    assert "already running" in second.stdout
    assert readyz.stdout == "ok"
    assert down.returncode == 0
    assert status.returncode == 1
    assert [name for name, pid in recorded.pids.items() if alive(pid)] == []
