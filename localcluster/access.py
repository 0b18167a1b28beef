"""What a test needs to act as a workload would: ServiceAccounts, tokens minted through the
TokenRequest API, an in-cluster ServiceAccount folder with its environment, the audit trail of
one user, and the real kubectl."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from localcluster.cluster import LocalCluster

JsonObject = dict[str, Any]


class ApiError(RuntimeError):
    """An admin request the test relied on was refused."""

    def __init__(self, response: httpx.Response) -> None:
        request = response.request
        super().__init__(
            f"{request.method} {request.url.path} -> {response.status_code}: {response.text}"
        )
        self.status_code = response.status_code


@dataclass(frozen=True)
class BoundObject:
    """An object a token is bound to; the token stops working once the object is deleted."""

    kind: str
    name: str
    uid: str
    api_version: str = "v1"


@dataclass
class ClusterAccess:
    """Admin-side helpers over one running cluster."""

    cluster: LocalCluster

    def __post_init__(self) -> None:
        self.admin = self.cluster.admin_client()

    def close(self) -> None:
        self.admin.close()

    def client_for_token(self, token: str) -> httpx.Client:
        """An HTTP client that authenticates with a bearer token, as a workload would."""
        return httpx.Client(
            base_url=self.cluster.server,
            verify=self.cluster.tls_context(),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def request(self, method: str, path: str, body: JsonObject | None = None) -> JsonObject:
        """Send an admin request and return the decoded response; raise ApiError on failure."""
        response = self.admin.request(method, path, json=body)
        if not response.is_success:
            raise ApiError(response)
        decoded: JsonObject = response.json() if response.content else {}
        return decoded

    def ensure_namespace(self, name: str) -> None:
        """Create the namespace unless it exists."""
        response = self.admin.post(
            "/api/v1/namespaces", json={"metadata": {"name": name}, "kind": "Namespace"}
        )
        if response.status_code not in (201, 409):
            raise ApiError(response)

    def create_service_account(self, namespace: str, name: str) -> JsonObject:
        """Create a ServiceAccount (its namespace too, if missing) and return it."""
        self.ensure_namespace(namespace)
        return self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}},
        )

    def mint_token(
        self,
        namespace: str,
        service_account: str,
        *,
        expiration_seconds: int = 3600,
        bound_object: BoundObject | None = None,
        audiences: Sequence[str] = (),
    ) -> str:
        """Mint a token for the ServiceAccount through the TokenRequest API."""
        spec: JsonObject = {"expirationSeconds": expiration_seconds}
        if audiences:
            spec["audiences"] = list(audiences)
        if bound_object is not None:
            spec["boundObjectRef"] = {
                "apiVersion": bound_object.api_version,
                "kind": bound_object.kind,
                "name": bound_object.name,
                "uid": bound_object.uid,
            }
        review = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        token: str = review["status"]["token"]
        return token

    def write_serviceaccount_dir(self, folder: Path, token: str, namespace: str) -> dict[str, str]:
        """Lay out `token`, `ca.crt` and `namespace` as the kubelet does in a pod.

        Returns the environment a pod would see: `KUBERNETES_SERVICE_HOST`, `..._PORT` and
        `SERVICEACCOUNT_DIR` pointing at the folder.
        """
        folder.mkdir(parents=True, exist_ok=True)
        write_token(folder, token)
        (folder / "ca.crt").write_bytes(self.cluster.ca_file.read_bytes())
        (folder / "namespace").write_text(namespace)
        address = urlsplit(self.cluster.server)
        return {
            "KUBERNETES_SERVICE_HOST": str(address.hostname),
            "KUBERNETES_SERVICE_PORT": str(address.port),
            "SERVICEACCOUNT_DIR": str(folder),
        }

    def audit_events(self, username: str) -> list[JsonObject]:
        """Every audit event, in order, of requests that `username` made."""
        return [
            event for event in read_audit_log(self.cluster.audit_log) if _user(event) == username
        ]

    def kubectl(
        self,
        *args: str,
        input_text: str | None = None,
        check: bool = True,
        cwd: Path | None = None,
    ) -> str:
        """Run the real kubectl as the admin and return its standard output (and, when `check`
        is false, its standard error after it)."""
        result = subprocess.run(
            [str(self.cluster.kubectl_path()), f"--kubeconfig={self.cluster.kubeconfig}", *args],
            input=input_text,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout + (result.stderr if not check else "")

    def wait_for(
        self, path: str, predicate: Any, timeout: float = 60.0, interval: float = 0.2
    ) -> JsonObject:
        """Poll an object until `predicate(object)` is true; return it, or fail with its state."""
        deadline = time.monotonic() + timeout
        last: JsonObject | str = "never fetched"
        while time.monotonic() < deadline:
            response = self.admin.get(path)
            if response.is_success:
                current: JsonObject = response.json()
                if predicate(current):
                    return current
                last = current
            else:
                last = f"{response.status_code}: {response.text}"
            time.sleep(interval)
        shown = str(last)
        if len(shown) > 3000:
            shown = shown[:3000] + " ..."
        raise AssertionError(
            f"{path} did not reach the expected state in {timeout}s; last: {shown}"
        )

    def wait_gone(self, path: str, timeout: float = 60.0) -> None:
        """Poll until the object is not found."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.admin.get(path).status_code == 404:
                return
            time.sleep(0.2)
        raise AssertionError(f"{path} still exists after {timeout}s")


@contextlib.contextmanager
def started_cluster(state_dir: Path, *, with_kwok: bool = True) -> Iterator[ClusterAccess]:
    """Start a control plane in `state_dir`, yield admin access to it, and stop it afterwards."""
    running = LocalCluster.start(state_dir, with_kwok=with_kwok)
    access = ClusterAccess(running)
    try:
        yield access
    finally:
        access.close()
        running.stop()


def service_account_username(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def write_token(folder: Path, token: str) -> None:
    """Replace the token file atomically, through a `..data` link swap as the kubelet does."""
    stamp = f"..{time.time_ns()}"
    (folder / stamp).mkdir()
    (folder / stamp / "token").write_text(token)
    temporary = folder / "..data_tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(stamp)
    temporary.rename(folder / "..data")
    link = folder / "token"
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to("..data/token")


def read_audit_log(path: Path) -> Iterator[JsonObject]:
    """The audit log's events; a partly written last line is skipped."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        try:
            yield json.loads(line)
        except ValueError:
            continue


def _user(event: JsonObject) -> str | None:
    user: JsonObject = event.get("user", {})
    name: str | None = user.get("username")
    return name
