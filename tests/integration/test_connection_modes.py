"""The two other ways to reach the API server: a kubeconfig outside a cluster, and a `kubectl
proxy` sidecar that authenticates for the operator over plain http on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcluster.access import ClusterAccess, JsonObject
from tests.integration.harness import (
    API,
    OPERATOR_NAMESPACE,
    base_environment,
    bind_cluster_role,
    is_ready,
    site,
    start_operator,
)

pytestmark = pytest.mark.integration


def _token_kubeconfig(cluster: ClusterAccess, folder: Path, account: str, namespace: str) -> Path:
    """A kubeconfig holding a token of the ServiceAccount, as a developer's might."""
    cluster.create_service_account(OPERATOR_NAMESPACE, account)
    bind_cluster_role(cluster, namespace, account)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "local",
                "cluster": {
                    "server": cluster.cluster.server,
                    "certificate-authority": str(cluster.cluster.ca_file),
                },
            }
        ],
        "users": [
            {"name": account, "user": {"token": cluster.mint_token(OPERATOR_NAMESPACE, account)}}
        ],
        "contexts": [
            {
                "name": "local",
                "context": {"cluster": "local", "user": account, "namespace": namespace},
            }
        ],
        "current-context": "local",
    }
    path = folder / "kubeconfig"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def proxy(installed: ClusterAccess, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`kubectl proxy` on a free loopback port, authenticated as its own ServiceAccount."""
    namespace = f"proxy-{uuid.uuid4().hex[:6]}"
    kubeconfig = _token_kubeconfig(installed, tmp_path, "staticsite-proxy", namespace)
    process = subprocess.Popen(
        [str(installed.cluster.kubectl_path()), f"--kubeconfig={kubeconfig}", "proxy", "--port=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    banner = process.stdout.readline()
    match = re.search(r"127\.0\.0\.1:(\d+)", banner)
    try:
        assert match, f"kubectl proxy did not start: {banner}"
        yield f"http://127.0.0.1:{match.group(1)}", namespace
    finally:
        process.terminate()
        process.wait(10)


def _site_reconciled_by(cluster: ClusterAccess, env: dict[str, str], log: Path) -> JsonObject:
    """Run the operator with `env`, create a site in its namespace, and return it once Ready."""
    namespace = env["WATCH_NAMESPACES"]
    sites = f"{API}/namespaces/{namespace}/staticsites"
    operator = start_operator(env, log)
    try:
        cluster.request("POST", sites, site("probe", {"index.html": "probe"}))
        return cluster.wait_for(f"{sites}/probe", is_ready, timeout=90)
    finally:
        operator.terminate()


def test_operator_reconciles_through_a_kubeconfig_outside_a_cluster(
    installed: ClusterAccess, tmp_path: Path
) -> None:
    namespace = f"kubeconfig-{uuid.uuid4().hex[:6]}"
    env = base_environment(namespace)
    env["KUBECONFIG"] = str(
        _token_kubeconfig(installed, tmp_path, "staticsite-kubeconfig", namespace)
    )
    env["SERVICEACCOUNT_DIR"] = str(tmp_path / "no-serviceaccount")

    ready = _site_reconciled_by(installed, env, tmp_path / "operator.log")

    assert ready["status"]["readyReplicas"] == 1
    assert '"via": "kubeconfig"' in (tmp_path / "operator.log").read_text()


def test_operator_reconciles_through_a_kubectl_proxy_sidecar(
    installed: ClusterAccess, proxy: tuple[str, str], tmp_path: Path
) -> None:
    url, namespace = proxy
    env = base_environment(namespace)
    env["KUBERNETES_API_URL"] = url
    env["SERVICEACCOUNT_DIR"] = str(tmp_path / "no-serviceaccount")

    ready = _site_reconciled_by(installed, env, tmp_path / "operator.log")

    assert ready["status"]["readyReplicas"] == 1
    assert '"via": "proxy"' in (tmp_path / "operator.log").read_text()
