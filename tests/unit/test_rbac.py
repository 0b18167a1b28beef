"""rbac/ grants exactly the permissions the code declares, and nothing dangerous."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from staticsite.example import CONTROLLER
from staticsite.machinery.permissions import Permission
from staticsite.machinery.runtime import all_permissions

RBAC = Path(__file__).resolve().parents[2] / "rbac"


def documents() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(RBAC.glob("*.yaml")):
        found.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return found


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents() if doc["kind"] == kind]


def granted(rules: list[dict[str, Any]]) -> set[Permission]:
    permissions = set()
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                plural, _, subresource = resource.partition("/")
                for verb in rule["verbs"]:
                    permissions.add(Permission(group, plural, verb, subresource))
    return permissions


def test_the_clusterrole_grants_exactly_what_the_code_needs() -> None:
    (role,) = of_kind("ClusterRole")

    assert granted(role["rules"]) == set(all_permissions(CONTROLLER))


def test_no_rule_uses_wildcards_secrets_or_privilege_verbs() -> None:
    (role,) = of_kind("ClusterRole")

    for rule in role["rules"]:
        values = [*rule["apiGroups"], *rule["resources"], *rule["verbs"]]
        assert "*" not in values
        assert "secrets" not in rule["resources"]
        assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])
        assert "resourceNames" not in rule
        assert "nonResourceURLs" not in rule


def test_every_rule_is_explained_by_a_comment() -> None:
    lines = (RBAC / "clusterrole.yaml").read_text().splitlines()

    rule_starts = [i for i, line in enumerate(lines) if line.strip().startswith("- apiGroups")]
    assert rule_starts
    for index in rule_starts:
        assert lines[index - 1].strip().startswith("#"), lines[index]


def test_the_rolebinding_binds_the_clusterrole_to_the_serviceaccount_in_its_namespace() -> None:
    (account,) = of_kind("ServiceAccount")
    (binding,) = of_kind("RoleBinding")
    (role,) = of_kind("ClusterRole")

    assert account["metadata"] == {**account["metadata"], "name": "staticsite-operator"}
    assert account["metadata"]["namespace"] == "staticsite-system"
    assert binding["metadata"]["namespace"] == "staticsite-system"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "staticsite-operator", "namespace": "staticsite-system"}
    ]


def test_nothing_is_granted_cluster_wide() -> None:
    assert of_kind("ClusterRoleBinding") == []
