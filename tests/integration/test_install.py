"""Installing and uninstalling exactly as the README says, on a fresh control plane of its own:
the install line works at the first try and again without changes, the operator's pod is
admitted under the restricted Pod Security Standard, `make run`'s script brings the example to
Ready, and the uninstall lines leave nothing behind.

The tests share one fresh cluster and run in file order, like the steps of the README.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from localcluster.access import ClusterAccess, started_cluster
from tests.integration.harness import OPERATOR_NAMESPACE, REPO

pytestmark = pytest.mark.integration

INSTALL = "kubectl apply -f manifests/ -f rbac/"
UNINSTALL = (
    "kubectl delete staticsites --all --all-namespaces --wait",
    "kubectl delete -f rbac/ -f manifests/ --wait",
)
README = (REPO / "README.md").read_text()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterAccess]:
    """A control plane on which nothing of the operator was ever installed."""
    with started_cluster(tmp_path_factory.mktemp("fresh-cluster")) as access:
        yield access


def _readme_command(fresh: ClusterAccess, line: str, *extra: str) -> str:
    """Run a README line's kubectl command with the real kubectl, from the repository root."""
    assert line in README, f"the README no longer says `{line}`"
    return fresh.kubectl(*line.split()[1:], *extra, cwd=REPO)


def test_install_line_works_on_a_fresh_cluster_at_the_first_try(fresh: ClusterAccess) -> None:
    output = _readme_command(fresh, INSTALL)

    assert (
        "customresourcedefinition.apiextensions.k8s.io/staticsites.sites.example.com created"
        in (output)
    )
    assert "deployment.apps/staticsite-operator created" in output
    assert "clusterrole.rbac.authorization.k8s.io/staticsite-operator created" in output


def test_install_line_applied_again_changes_nothing(fresh: ClusterAccess) -> None:
    dry_run = _readme_command(fresh, INSTALL, "--dry-run=server")
    again = _readme_command(fresh, INSTALL)

    assert "(server dry run)" in dry_run
    assert [line for line in again.splitlines() if not line.endswith(" unchanged")] == []


def test_operator_pod_is_admitted_under_the_enforced_restricted_standard(
    fresh: ClusterAccess,
) -> None:
    namespace = fresh.request("GET", f"/api/v1/namespaces/{OPERATOR_NAMESPACE}")
    privileged = {
        "metadata": {"name": "privileged-probe"},
        "spec": {"containers": [{"name": "probe", "image": "example.invalid/probe:1"}]},
    }

    refused = fresh.admin.post(f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/pods", json=privileged)
    pods = fresh.wait_for(
        f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/pods?labelSelector="
        "app.kubernetes.io/name%3Dstaticsite-operator",
        lambda body: any(p["status"].get("phase") == "Running" for p in body["items"]),
        timeout=90,
    )

    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert refused.status_code == 403
    assert "violates PodSecurity" in refused.json()["message"]
    [pod] = pods["items"]
    assert pod["spec"]["serviceAccountName"] == "staticsite-operator"


def test_run_script_brings_the_example_to_ready(fresh: ClusterAccess) -> None:
    """`make run`'s script: the operator as its ServiceAccount, in-cluster mode, example Ready."""
    env = {**os.environ, "STATE": str(fresh.cluster.state_dir), "RUN_ONCE": "1"}
    env.pop("KUBECONFIG", None)

    result = subprocess.run(
        [str(REPO / "scripts" / "run-local.sh")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    site = fresh.request(
        "GET", f"/apis/sites.example.com/v1alpha1/namespaces/{OPERATOR_NAMESPACE}/staticsites/hello"
    )
    ready = [c for c in site["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"


def test_uninstall_lines_leave_nothing_behind(fresh: ClusterAccess) -> None:
    for line in UNINSTALL:
        _readme_command(fresh, line)

    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    leftovers = {
        "/api/v1/namespaces/staticsite-system": 404,
        f"{crds}/staticsites.sites.example.com": 404,
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/staticsite-operator": 404,
    }
    assert {path: fresh.admin.get(path).status_code for path in leftovers} == leftovers
