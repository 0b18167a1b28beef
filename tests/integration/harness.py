"""Runs the operator as a separate process, exactly as in a pod: in-cluster mode, with a token
minted for its ServiceAccount in a ServiceAccount folder, against the local control plane."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from localcluster.access import BoundObject, ClusterAccess, JsonObject
from localcluster.processes import free_port

REPO = Path(__file__).resolve().parents[2]
OPERATOR_NAMESPACE = "staticsite-system"
OPERATOR_SERVICE_ACCOUNT = "staticsite-operator"
API = "/apis/sites.example.com/v1alpha1"


def load_documents(*paths: Path) -> list[JsonObject]:
    """Every YAML document in the files, in order."""
    documents: list[JsonObject] = []
    for path in paths:
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def cluster_role_rules() -> list[JsonObject]:
    """The rules of the ClusterRole shipped in rbac/."""
    for document in load_documents(*sorted((REPO / "rbac").glob("*.yaml"))):
        if document["kind"] == "ClusterRole":
            rules: list[JsonObject] = document["rules"]
            return rules
    raise AssertionError("rbac/ holds no ClusterRole")


def bind_cluster_role(
    cluster: ClusterAccess, namespace: str, service_account: str, role: str = "staticsite-operator"
) -> None:
    """Grant the ClusterRole to a ServiceAccount in one namespace, as rbac/rolebinding.yaml does."""
    cluster.ensure_namespace(namespace)
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{role}-{service_account}", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [
            {"kind": "ServiceAccount", "name": service_account, "namespace": OPERATOR_NAMESPACE}
        ],
    }
    cluster.request(
        "POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings", binding
    )


@dataclass
class OperatorProcess:
    """A running `staticsite-operator` and where to find its output."""

    process: subprocess.Popen[bytes]
    log: Path
    health_port: int
    metrics_port: int
    exit_seconds: float | None = field(default=None)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        """The log's JSON lines; anything else fails the caller's assertions by being absent."""
        lines = []
        for line in self.output().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    def alive(self) -> bool:
        return self.process.poll() is None

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"the operator exited early:\n{self.output()[-4000:]}")
            try:
                url = f"http://127.0.0.1:{self.health_port}/healthz"
                if httpx.get(url, timeout=2).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the operator never became healthy:\n{self.output()[-4000:]}")

    def terminate(self, timeout: float = 15.0) -> int:
        """Send SIGTERM, wait for the exit, remember how long it took, and return the code."""
        if not self.alive():
            return self.process.returncode
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.exit_seconds = time.monotonic() - started
        return code


def operator_environment(
    cluster: ClusterAccess,
    folder: Path,
    *,
    service_account: str = OPERATOR_SERVICE_ACCOUNT,
    watch_namespaces: str = OPERATOR_NAMESPACE,
    bound_object: BoundObject | None = None,
) -> dict[str, str]:
    """The environment of a pod running as the ServiceAccount, with a freshly minted token."""
    token = cluster.mint_token(
        OPERATOR_NAMESPACE, service_account, expiration_seconds=3600, bound_object=bound_object
    )
    env = base_environment(watch_namespaces)
    env.update(cluster.write_serviceaccount_dir(folder, token, OPERATOR_NAMESPACE))
    return env


def base_environment(watch_namespaces: str) -> dict[str, str]:
    """The operator's settings for a test, without any credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "SERVICEACCOUNT"))}
    env.update(
        {
            "WATCH_NAMESPACES": watch_namespaces,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "debug",
            "BIND_ADDRESS": "127.0.0.1",
            "HEALTH_PORT": str(free_port()),
            "METRICS_PORT": str(free_port()),
        }
    )
    return env


def operator_command(*args: str) -> list[str]:
    executable = shutil.which("staticsite-operator", path=str(Path(sys.executable).parent))
    if executable is None:
        raise AssertionError("the staticsite-operator console script is not installed")
    return [executable, *args]


def start_operator(env: dict[str, str], log: Path) -> OperatorProcess:
    """Start `staticsite-operator run` and wait until its liveness endpoint answers."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            operator_command("run"), env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    running = OperatorProcess(
        process=process,
        log=log,
        health_port=int(env["HEALTH_PORT"]),
        metrics_port=int(env["METRICS_PORT"]),
    )
    running.wait_healthy()
    return running


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `staticsite-operator check` to completion."""
    return subprocess.run(
        operator_command("check"), env=env, capture_output=True, text=True, timeout=60, check=False
    )


def site(name: str, files: dict[str, str], replicas: int = 1) -> JsonObject:
    return {
        "apiVersion": "sites.example.com/v1alpha1",
        "kind": "StaticSite",
        "metadata": {"name": name},
        "spec": {"files": files, "replicas": replicas},
    }


def condition(body: JsonObject, kind: str) -> JsonObject | None:
    for item in body.get("status", {}).get("conditions", []):
        if item["type"] == kind:
            found: JsonObject = item
            return found
    return None


def is_ready(body: JsonObject) -> bool:
    """Ready is True and the status describes the current spec."""
    ready = condition(body, "Ready")
    status = body.get("status", {})
    return (
        ready is not None
        and ready["status"] == "True"
        and status.get("observedGeneration") == body["metadata"]["generation"]
    )
