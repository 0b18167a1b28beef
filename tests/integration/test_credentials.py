"""The operator's credentials, for real: it survives a rotation of its bound token, and its
start-up check refuses to run with a clear list when a rule is missing from its role."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from localcluster.access import BoundObject, ClusterAccess, write_token
from tests.integration.harness import (
    API,
    OPERATOR_NAMESPACE,
    bind_cluster_role,
    cluster_role_rules,
    is_ready,
    operator_environment,
    run_check,
    site,
    start_operator,
)

pytestmark = pytest.mark.integration


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _token_status(cluster: ClusterAccess, token: str) -> int:
    with cluster.client_for_token(token) as client:
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        return client.post(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews", json=review
        ).status_code


def test_operator_keeps_reconciling_after_its_bound_token_is_rotated_and_revoked(
    installed: ClusterAccess, tmp_path: Path
) -> None:
    cluster = installed
    account, namespace = "staticsite-rotation", _unique("rotation")
    cluster.create_service_account(OPERATOR_NAMESPACE, account)
    bind_cluster_role(cluster, namespace, account)
    anchor = cluster.request(
        "POST",
        f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/secrets",
        {"metadata": {"name": _unique("token-anchor")}, "type": "Opaque"},
    )
    bound = BoundObject("Secret", anchor["metadata"]["name"], anchor["metadata"]["uid"])
    folder = tmp_path / "serviceaccount"
    env = operator_environment(
        cluster, folder, service_account=account, watch_namespaces=namespace, bound_object=bound
    )
    old_token = (folder / "token").read_text()
    sites = f"{API}/namespaces/{namespace}/staticsites"
    operator = start_operator(env, tmp_path / "operator.log")
    try:
        cluster.request("POST", sites, site("before", {"index.html": "before"}))
        cluster.wait_for(f"{sites}/before", is_ready, timeout=90)

        write_token(folder, cluster.mint_token(OPERATOR_NAMESPACE, account))
        cluster.request("DELETE", f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/secrets/{bound.name}")
        deadline = time.monotonic() + 30
        while _token_status(cluster, old_token) != 401 and time.monotonic() < deadline:
            time.sleep(0.5)
        old_token_status = _token_status(cluster, old_token)
        cluster.request("POST", sites, site("after", {"index.html": "after"}))
        after = cluster.wait_for(f"{sites}/after", is_ready, timeout=120)
        still_running = operator.alive()
    finally:
        operator.terminate()

    errors = [line for line in operator.json_lines() if line.get("level") in {"error", "critical"}]
    assert old_token_status == 401
    assert after["status"]["readyReplicas"] == 1
    assert still_running
    assert errors == []
    assert old_token not in operator.output()


def test_start_up_check_lists_the_rule_removed_from_the_role_and_fails(
    installed: ClusterAccess, tmp_path: Path
) -> None:
    cluster = installed
    account, role = "staticsite-partial", _unique("staticsite-partial")
    rules = cluster_role_rules()
    removed = next(rule for rule in rules if "services" in rule["resources"])
    cluster.request(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        {"metadata": {"name": role}, "rules": [r for r in rules if r is not removed]},
    )
    cluster.create_service_account(OPERATOR_NAMESPACE, account)
    bind_cluster_role(cluster, OPERATOR_NAMESPACE, account, role=role)
    env = operator_environment(cluster, tmp_path / "serviceaccount", service_account=account)

    result = run_check(env)

    output = result.stdout + result.stderr
    assert result.returncode == 1
    for verb in removed["verbs"]:
        assert f"{verb} services" in output or json.dumps(verb) in output
    assert "Traceback" not in output
