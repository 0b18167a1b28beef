"""Fixtures for the tests that need a real control plane: one cluster for the whole session.

The cluster is built from source on first use (minutes) and started from cached binaries
afterwards (seconds). If it cannot start, every test that needs it errors with the reason: an
integration test never passes or skips without a real API server behind it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from localcluster.access import ClusterAccess, started_cluster
from tests.integration.harness import REPO

_cluster_logs: list[Path] = []


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterAccess]:
    """A running control plane with RBAC, an audit log, controllers, a scheduler and kwok."""
    with started_cluster(tmp_path_factory.mktemp("localcluster")) as access:
        _cluster_logs.append(access.cluster.logs)
        yield access


@pytest.fixture(scope="session")
def installed(cluster: ClusterAccess) -> ClusterAccess:
    """The Namespace, the CRD and rbac/, applied with kubectl as a user would."""
    cluster.kubectl(
        "apply",
        "-f",
        str(REPO / "manifests" / "00-namespace.yaml"),
        "-f",
        str(REPO / "manifests" / "10-crd.yaml"),
        "-f",
        str(REPO / "rbac"),
    )
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/staticsites.sites.example.com", "--timeout=60s"
    )
    return cluster


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Point a failing integration test at the control plane's component logs."""
    report = yield
    if report.failed and _cluster_logs:
        report.sections.append(("control plane logs", f"component logs: {_cluster_logs[-1]}"))
    return report
