"""The operator, run as its ServiceAccount in in-cluster mode under exactly the rules in rbac/,
reconciles StaticSites end to end against the local control plane.

The tests in this module share one operator process and run in file order; the last ones read
what that process did from the API server's audit log.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcluster.access import ClusterAccess, JsonObject, service_account_username
from tests.integration.harness import (
    API,
    OPERATOR_NAMESPACE,
    OPERATOR_SERVICE_ACCOUNT,
    REPO,
    OperatorProcess,
    cluster_role_rules,
    condition,
    is_ready,
    operator_environment,
    site,
    start_operator,
)

pytestmark = pytest.mark.integration

NS = OPERATOR_NAMESPACE
SITES = f"{API}/namespaces/{NS}/staticsites"
CHECKSUM = "sites.example.com/files-checksum"


@pytest.fixture(scope="module")
def operator(
    installed: ClusterAccess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """One operator process for the module, authenticated with a minted ServiceAccount token."""
    folder = tmp_path_factory.mktemp("operator")
    env = operator_environment(installed, folder / "serviceaccount")
    running = start_operator(env, folder / "operator.log")
    try:
        yield running
    finally:
        running.terminate()


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _create_ready_site(cluster: ClusterAccess, name: str, **spec: object) -> JsonObject:
    files = spec.pop("files", {"index.html": f"<h1>{name}</h1>"})
    body = site(name, files, **spec)  # type: ignore[arg-type]
    cluster.request("POST", SITES, body)
    return cluster.wait_for(f"{SITES}/{name}", is_ready, timeout=90)


def _child(cluster: ClusterAccess, kind: str, name: str) -> JsonObject:
    paths = {
        "ConfigMap": f"/api/v1/namespaces/{NS}/configmaps/{name}",
        "Service": f"/api/v1/namespaces/{NS}/services/{name}",
        "Deployment": f"/apis/apps/v1/namespaces/{NS}/deployments/{name}",
    }
    return cluster.request("GET", paths[kind])


def test_new_site_gets_its_children_and_turns_ready(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    name = _name("hello")

    ready = _create_ready_site(cluster, name, files={"index.html": "<h1>hi</h1>"}, replicas=2)

    uid = ready["metadata"]["uid"]
    for kind in ("ConfigMap", "Service", "Deployment"):
        child = _child(cluster, kind, name)
        [owner] = child["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"]) == ("StaticSite", name, uid)
        assert owner["controller"] is True
    assert _child(cluster, "ConfigMap", name)["data"] == {"index.html": "<h1>hi</h1>"}
    assert ready["status"]["readyReplicas"] == 2
    assert ready["status"]["url"] == f"http://{name}.{NS}.svc.cluster.local"
    assert condition(ready, "Degraded")["status"] == "False"  # type: ignore[index]
    assert condition(ready, "Progressing")["status"] == "False"  # type: ignore[index]


def test_changed_files_update_the_configmap_and_roll_the_pods(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    name = _name("content")
    _create_ready_site(cluster, name)
    before = _child(cluster, "Deployment", name)["spec"]["template"]["metadata"]["annotations"]

    patch = {"spec": {"files": {"index.html": "<h1>v2</h1>", "about.html": "about"}}}
    cluster.admin.patch(
        f"{SITES}/{name}", json=patch, headers={"Content-Type": "application/merge-patch+json"}
    ).raise_for_status()
    cluster.wait_for(f"{SITES}/{name}", is_ready, timeout=90)

    configmap = _child(cluster, "ConfigMap", name)
    after = _child(cluster, "Deployment", name)["spec"]["template"]["metadata"]["annotations"]
    assert configmap["data"] == {"index.html": "<h1>v2</h1>", "about.html": "about"}
    assert after[CHECKSUM] != before[CHECKSUM]


def test_scaling_a_site_scales_its_deployment_and_reports_ready_replicas(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    name = _name("scale")
    _create_ready_site(cluster, name)

    cluster.admin.patch(
        f"{SITES}/{name}",
        json={"spec": {"replicas": 3}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()
    scaled = cluster.wait_for(
        f"{SITES}/{name}",
        lambda body: is_ready(body) and body["status"].get("readyReplicas") == 3,
        timeout=90,
    )

    assert scaled["status"]["readyReplicas"] == 3
    assert _child(cluster, "Deployment", name)["spec"]["replicas"] == 3


def test_deleting_a_site_lets_the_garbage_collector_remove_its_children(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    name = _name("gone")
    _create_ready_site(cluster, name)

    cluster.request("DELETE", f"{SITES}/{name}")

    for path in (
        f"/api/v1/namespaces/{NS}/configmaps/{name}",
        f"/api/v1/namespaces/{NS}/services/{name}",
        f"/apis/apps/v1/namespaces/{NS}/deployments/{name}",
    ):
        cluster.wait_gone(path, timeout=60)


def test_invalid_spec_is_refused_by_the_api_server_with_a_readable_message(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    refused = cluster.kubectl(
        "apply", "-f", str(REPO / "examples" / "invalid-staticsite.yaml"), check=False
    )
    bad_name = site(_name("bad"), {"../etc/passwd": "x"})

    response = cluster.admin.post(SITES, json=bad_name)

    assert "Invalid value" in refused or "invalid" in refused.lower()
    assert response.status_code == 422
    assert "file name" in response.json()["message"].lower()


def test_child_deleted_by_hand_is_put_back(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    name = _name("restore")
    _create_ready_site(cluster, name)
    original_uid = _child(cluster, "Service", name)["metadata"]["uid"]

    cluster.request("DELETE", f"/api/v1/namespaces/{NS}/services/{name}")

    restored = cluster.wait_for(
        f"/api/v1/namespaces/{NS}/services/{name}",
        lambda body: body["metadata"]["uid"] != original_uid,
        timeout=60,
    )
    assert restored["spec"]["ports"][0]["targetPort"] == 8080


def test_child_edited_by_hand_is_put_back_in_shape(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    name = _name("drift")
    _create_ready_site(cluster, name, files={"index.html": "original"})
    path = f"/api/v1/namespaces/{NS}/configmaps/{name}"

    cluster.admin.patch(
        path,
        json={"data": {"index.html": "defaced"}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()

    restored = cluster.wait_for(path, lambda body: body["data"]["index.html"] == "original")
    assert restored["data"] == {"index.html": "original"}


def _operator_events(cluster: ClusterAccess) -> list[JsonObject]:
    user = service_account_username(NS, OPERATOR_SERVICE_ACCOUNT)
    return cluster.audit_events(user)


def test_a_site_in_shape_causes_no_writes(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    name = _name("steady")
    _create_ready_site(cluster, name)
    time.sleep(3)
    seen = len(_operator_events(cluster))

    time.sleep(10)

    later = _operator_events(cluster)[seen:]
    writes = [
        (e["verb"], e["objectRef"].get("resource"), e["objectRef"].get("name"))
        for e in later
        if e["verb"] in {"create", "update", "patch", "delete"}
    ]
    assert writes == []


def test_metrics_count_reconciliations(operator: OperatorProcess) -> None:
    text = operator.metrics()

    assert "staticsite_reconcile" in text


def test_every_line_the_operator_logged_is_json(operator: OperatorProcess) -> None:
    lines = operator.output().splitlines()

    assert lines
    assert len(operator.json_lines()) == len(lines)


def _group(event: JsonObject) -> str:
    group: str = event["objectRef"].get("apiGroup", "")
    return group


def _resource(event: JsonObject) -> str:
    reference = event["objectRef"]
    subresource = reference.get("subresource")
    return f"{reference['resource']}/{subresource}" if subresource else str(reference["resource"])


def _verbs_authorised(event: JsonObject) -> list[str]:
    """A server-side apply that creates its object (201) is authorised as patch and create."""
    if event["verb"] == "patch" and event["responseStatus"]["code"] == 201:
        return ["patch", "create"]
    return [str(event["verb"])]


def test_operator_requests_were_never_denied_and_used_every_granted_permission(
    cluster: ClusterAccess, operator: OperatorProcess
) -> None:
    """Least privilege, read off the audit log: no request was refused, and every verb that
    rbac/ grants on every resource was exercised by the tests above."""
    events = _operator_events(cluster)
    used = {
        (_group(e), _resource(e), verb)
        for e in events
        if "objectRef" in e and e["responseStatus"]["code"] < 400
        for verb in _verbs_authorised(e)
    }
    granted = {
        (group, resource, verb)
        for rule in cluster_role_rules()
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    denied = [
        (e["verb"], e.get("objectRef"), e["responseStatus"]["code"])
        for e in events
        if e["responseStatus"]["code"] == 403
    ]
    unauthorised = [e for e in events if e["responseStatus"]["code"] == 401]

    assert denied == []
    assert unauthorised == []
    assert sorted(granted - used) == []


def test_operator_stops_cleanly_on_sigterm(operator: OperatorProcess, tmp_path: Path) -> None:
    code = operator.terminate()

    assert code == 0
    assert operator.exit_seconds is not None
    assert operator.exit_seconds < 10
