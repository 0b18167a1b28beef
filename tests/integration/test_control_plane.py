"""The local control plane is a real one: RBAC is enforced, tokens are real and bound, the
garbage collector runs, the audit log records who did what, CRDs are served and validated, and
pods are scheduled onto a kwok node that reports them ready."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from localcluster.access import BoundObject, ClusterAccess, service_account_username

pytestmark = pytest.mark.integration


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _eventually_status(client: httpx.Client, path: str, expected: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    status = client.get(path).status_code
    while status != expected and time.monotonic() < deadline:
        time.sleep(0.3)
        status = client.get(path).status_code
    return status


def test_service_account_without_rules_is_forbidden_until_a_role_binds_it(
    cluster: ClusterAccess,
) -> None:
    namespace, name = _unique("rbac"), "reader"
    cluster.create_service_account(namespace, name)
    token = cluster.mint_token(namespace, name)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    with cluster.client_for_token(token) as client:
        before = client.get(path).status_code
        cluster.request(
            "POST",
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles",
            {
                "metadata": {"name": "read-configmaps"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
            },
        )
        cluster.request(
            "POST",
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
            {
                "metadata": {"name": "read-configmaps"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "read-configmaps",
                },
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            },
        )
        after = _eventually_status(client, path, 200)
        other_namespace = client.get("/api/v1/namespaces/default/configmaps").status_code

    assert before == 403
    assert after == 200
    assert other_namespace == 403


def test_minted_token_authenticates_as_its_service_account(cluster: ClusterAccess) -> None:
    namespace, name = _unique("token"), "workload"
    cluster.create_service_account(namespace, name)
    token = cluster.mint_token(namespace, name, expiration_seconds=600)
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    with cluster.client_for_token(token) as client:
        response = client.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json=review)

    assert response.status_code == 201
    assert response.json()["status"]["userInfo"]["username"] == service_account_username(
        namespace, name
    )


def test_token_bound_to_an_object_stops_working_once_the_object_is_deleted(
    cluster: ClusterAccess,
) -> None:
    namespace, name = _unique("bound"), "workload"
    cluster.create_service_account(namespace, name)
    secret = cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/secrets",
        {"metadata": {"name": "anchor"}, "stringData": {"purpose": "token anchor"}},
    )
    bound = BoundObject(kind="Secret", name="anchor", uid=secret["metadata"]["uid"])
    token = cluster.mint_token(namespace, name, bound_object=bound)
    review_path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    with cluster.client_for_token(token) as client:
        while_bound = client.post(review_path, json=review).status_code
        cluster.request("DELETE", f"/api/v1/namespaces/{namespace}/secrets/anchor")
        deadline = time.monotonic() + 30
        after_delete = client.post(review_path, json=review).status_code
        while after_delete != 401 and time.monotonic() < deadline:
            time.sleep(0.5)
            after_delete = client.post(review_path, json=review).status_code

    assert while_bound == 201
    assert after_delete == 401


def test_garbage_collector_deletes_dependents_of_a_deleted_owner(cluster: ClusterAccess) -> None:
    namespace = _unique("gc")
    cluster.ensure_namespace(namespace)
    configmaps = f"/api/v1/namespaces/{namespace}/configmaps"
    owner = cluster.request("POST", configmaps, {"metadata": {"name": "owner"}})
    reference = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    cluster.request(
        "POST", configmaps, {"metadata": {"name": "dependent", "ownerReferences": [reference]}}
    )

    cluster.request("DELETE", f"{configmaps}/owner")

    cluster.wait_gone(f"{configmaps}/dependent", timeout=60)


def test_audit_log_records_each_request_of_a_service_account(cluster: ClusterAccess) -> None:
    namespace, name = _unique("audit"), "auditee"
    cluster.create_service_account(namespace, name)
    token = cluster.mint_token(namespace, name)
    with cluster.client_for_token(token) as client:
        client.get(f"/api/v1/namespaces/{namespace}/pods")
    username = service_account_username(namespace, name)

    deadline = time.monotonic() + 10
    events = cluster.audit_events(username)
    while not events and time.monotonic() < deadline:
        time.sleep(0.2)
        events = cluster.audit_events(username)

    assert [
        (
            event["verb"],
            event["objectRef"]["resource"],
            event["objectRef"]["namespace"],
            event["responseStatus"]["code"],
        )
        for event in events
    ] == [("list", "pods", namespace, 403)]


TEST_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.test.localcluster.dev
spec:
  group: test.localcluster.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size:
                  type: integer
                  x-kubernetes-validations:
                    - rule: "self <= 10"
                      message: "size must be at most 10"
"""


def test_crd_applied_with_kubectl_serves_its_resource_and_rejects_invalid_objects(
    cluster: ClusterAccess,
) -> None:
    namespace = _unique("crd")
    cluster.ensure_namespace(namespace)
    cluster.kubectl("apply", "-f", "-", input_text=TEST_CRD)
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/widgets.test.localcluster.dev", "--timeout=60s"
    )
    widget = (
        "apiVersion: test.localcluster.dev/v1\nkind: Widget\n"
        "metadata: {{name: {0}}}\nspec: {{size: {1}}}\n"
    )

    cluster.kubectl("apply", "-n", namespace, "-f", "-", input_text=widget.format("small", 3))
    refused = cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input_text=widget.format("huge", 99), check=False
    )
    listed = cluster.kubectl("get", "widgets", "-n", namespace, "-o", "name")

    assert listed.split() == ["widget.test.localcluster.dev/small"]
    assert "size must be at most 10" in refused


def test_pod_is_scheduled_onto_the_kwok_node_and_reported_ready(cluster: ClusterAccess) -> None:
    namespace = _unique("pods")
    cluster.ensure_namespace(namespace)
    cluster.wait_for(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/default", lambda _: True, timeout=30
    )
    pod = {
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "web", "image": "example.invalid/web:1"}]},
    }
    cluster.request("POST", f"/api/v1/namespaces/{namespace}/pods", pod)

    ready = cluster.wait_for(
        f"/api/v1/namespaces/{namespace}/pods/web",
        lambda body: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in body.get("status", {}).get("conditions", [])
        ),
    )

    assert ready["spec"]["nodeName"] == "kwok-node-0"
