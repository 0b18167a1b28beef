"""The desired children of a StaticSite, computed from its metadata and spec alone (no I/O).

A ConfigMap with the files, a Deployment of unprivileged nginx serving them, and a Service in
front. All three share the StaticSite's name, carry the standard labels, and are controlled by
the StaticSite through an ownerReference, so the garbage collector deletes them with it.

TODO(user): describe your kind's children here; keep the functions pure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from staticsite.example.resources import (
    APP_NAME,
    CHECKSUM_ANNOTATION,
    CONFIGMAP,
    DEPLOYMENT,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    OPERATOR_NAME,
    SERVICE,
    STATICSITE,
)
from staticsite.example.spec import SiteSpec
from staticsite.machinery.resources import JsonObject, ResourceRef

HTML_DIR = "/usr/share/nginx/html"
HTTP_PORT = 8080
SERVICE_PORT = 80
NGINX_UID = 101

# Maps whose entries must match exactly, not just include the desired ones (a removed file).
EXACT_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {CONFIGMAP.kind: (("data",),)}


def labels(name: str) -> dict[str, str]:
    return {NAME_LABEL: APP_NAME, INSTANCE_LABEL: name, MANAGED_BY_LABEL: OPERATOR_NAME}


def selector(name: str) -> dict[str, str]:
    return {INSTANCE_LABEL: name}


def owner_reference(site: Mapping[str, Any]) -> JsonObject:
    metadata = site["metadata"]
    return {
        "apiVersion": STATICSITE.api_version,
        "kind": STATICSITE.kind,
        "name": metadata["name"],
        "uid": metadata["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def files_checksum(files: Mapping[str, str]) -> str:
    """sha256 of the files, independent of their order in the spec."""
    canonical = json.dumps(dict(files), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def desired_children(
    site: Mapping[str, Any], spec: SiteSpec
) -> list[tuple[ResourceRef, JsonObject]]:
    """The children to apply, in order: ConfigMap, then Deployment, then Service."""
    return [
        (CONFIGMAP, desired_configmap(site, spec)),
        (DEPLOYMENT, desired_deployment(site, spec)),
        (SERVICE, desired_service(site)),
    ]


def _metadata(site: Mapping[str, Any]) -> JsonObject:
    name = site["metadata"]["name"]
    return {
        "name": name,
        "namespace": site["metadata"]["namespace"],
        "labels": labels(name),
        "ownerReferences": [owner_reference(site)],
    }


def desired_configmap(site: Mapping[str, Any], spec: SiteSpec) -> JsonObject:
    return {
        "apiVersion": CONFIGMAP.api_version,
        "kind": CONFIGMAP.kind,
        "metadata": _metadata(site),
        "data": dict(spec.files),
    }


def desired_deployment(site: Mapping[str, Any], spec: SiteSpec) -> JsonObject:
    name = site["metadata"]["name"]
    pod_labels = {NAME_LABEL: APP_NAME, INSTANCE_LABEL: name}
    container = {
        "name": "nginx",
        "image": spec.image,
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "readinessProbe": {"tcpSocket": {"port": HTTP_PORT}, "periodSeconds": 5},
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
        "volumeMounts": [
            {"name": "files", "mountPath": HTML_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return {
        "apiVersion": DEPLOYMENT.api_version,
        "kind": DEPLOYMENT.kind,
        "metadata": _metadata(site),
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": selector(name)},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {CHECKSUM_ANNOTATION: files_checksum(spec.files)},
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": NGINX_UID,
                        "runAsGroup": NGINX_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "files", "configMap": {"name": name}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }


def desired_service(site: Mapping[str, Any]) -> JsonObject:
    name = site["metadata"]["name"]
    return {
        "apiVersion": SERVICE.api_version,
        "kind": SERVICE.kind,
        "metadata": _metadata(site),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name),
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": HTTP_PORT, "protocol": "TCP"}
            ],
        },
    }
