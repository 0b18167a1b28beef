"""skaffold.yaml: valid for its schema version, accepted and rendered offline by skaffold itself,
and consistent with the Dockerfile and manifests.

skaffold is built from its Go module like the control plane's binaries (and cached with them);
the JSON schema of its current config version comes from the same module.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from localcluster import binaries
from tests.static.repo import (
    MANIFESTS,
    OPERATOR_NAME,
    OPERATOR_NAMESPACE,
    REPO,
    find,
    load_folder,
)

PROFILES = ("kind", "registry")


@pytest.fixture(scope="module")
def skaffold() -> Path:
    """The pinned skaffold, built on first use."""
    return binaries.resolve(["skaffold"])["skaffold"]


def _run_skaffold(skaffold: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(skaffold), *args],
        cwd=REPO,
        env={
            **os.environ,
            "HOME": str(skaffold.parent),
            "SKAFFOLD_UPDATE_CHECK": "false",
            "SKAFFOLD_COLLECT_METRICS": "false",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "skaffold.yaml").read_text())
    return loaded


def _schema_for(skaffold: Path, api_version: str) -> dict[str, Any]:
    path = skaffold.parent / f"skaffold-{api_version.removeprefix('skaffold/')}.json"
    assert path.exists(), f"skaffold {binaries.SKAFFOLD_VERSION} ships no schema for {api_version}"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def _profile(config: dict[str, Any], name: str) -> dict[str, Any]:
    (profile,) = [p for p in config["profiles"] if p["name"] == name]
    assert isinstance(profile, dict)
    return profile


def test_the_config_is_valid_for_its_schema_version(skaffold: Path, config: dict[str, Any]) -> None:
    schema = _schema_for(skaffold, config["apiVersion"])
    validator = jsonschema.Draft7Validator(schema)

    error = jsonschema.exceptions.best_match(validator.iter_errors(config))

    assert error is None, f"{error.json_path}: {error.message}"


def test_the_config_uses_the_version_that_the_pinned_skaffold_writes(
    skaffold: Path, config: dict[str, Any]
) -> None:
    """An older apiVersion still works (skaffold upgrades it), but `skaffold fix` is due."""
    result = _run_skaffold(skaffold, "diagnose", "--yaml-only", "--filename", "skaffold.yaml")

    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["apiVersion"] == config["apiVersion"]


def test_the_built_image_is_the_one_the_deployment_runs(config: dict[str, Any]) -> None:
    """skaffold replaces an image in the manifests only if its name matches the artifact's."""
    (artifact,) = config["build"]["artifacts"]
    deployment = find(load_folder(MANIFESTS), "Deployment", OPERATOR_NAME)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]

    assert artifact["image"] == OPERATOR_NAME
    assert container["image"].partition(":")[0] == artifact["image"]
    assert artifact["docker"]["dockerfile"] == "Dockerfile"


def test_it_deploys_the_manifests_and_the_rbac_with_kubectl(config: dict[str, Any]) -> None:
    assert config["manifests"]["rawYaml"] == ["manifests/*.yaml", "rbac/*.yaml"]
    assert "kubectl" in config["deploy"]


def test_it_forwards_the_metrics_port_of_the_metrics_service(config: dict[str, Any]) -> None:
    (forward,) = config["portForward"]
    service = find(load_folder(MANIFESTS), "Service", forward["resourceName"])

    assert forward["resourceType"] == "service"
    assert forward["namespace"] == OPERATOR_NAMESPACE
    assert forward["port"] in [p["port"] for p in service["spec"]["ports"]]


def test_kind_loads_the_image_and_registry_pushes_it(config: dict[str, Any]) -> None:
    assert _profile(config, "kind")["build"]["local"]["push"] is False
    assert _profile(config, "registry")["build"]["local"]["push"] is True


@pytest.mark.parametrize("profile", [None, *PROFILES])
def test_skaffold_itself_accepts_the_config(skaffold: Path, profile: str | None) -> None:
    """`skaffold diagnose --yaml-only` parses, upgrades and applies profiles, all offline."""
    profile_args = ["--profile", profile] if profile else []

    result = _run_skaffold(
        skaffold, "diagnose", "--yaml-only", "--filename", "skaffold.yaml", *profile_args
    )

    assert result.returncode == 0, result.stderr
    effective = yaml.safe_load(result.stdout)
    assert effective["build"]["artifacts"][0]["image"] == OPERATOR_NAME


def test_skaffold_renders_the_rbac_and_the_manifests_offline(
    skaffold: Path, tmp_path: Path
) -> None:
    rendered = tmp_path / "rendered.yaml"

    result = _run_skaffold(
        skaffold, "render", "--offline=true", "--digest-source=none", f"--output={rendered}"
    )

    assert result.returncode == 0, result.stderr
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(rendered.read_text()) if doc)
    expected = [doc["kind"] for doc in load_folder(MANIFESTS) + load_folder(REPO / "rbac")]
    assert kinds == sorted(expected)
