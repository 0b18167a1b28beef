"""The control plane as a whole: start its components in order, wait until each is ready, record
what runs in a state folder so another process can attach to it, and stop it leaving nothing.

Layout of the state folder: `kubeconfig` (admin), `bin/` (links to the binaries it runs),
`logs/` (one log per component), `audit.log`, `pki/`, `etcd/` and `state.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from localcluster import binaries, pki, processes

AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
"""
FAKE_NODE = "kwok-node-0"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
_STARTUP_TIMEOUT = 120.0


class ClusterError(RuntimeError):
    """A component failed to start; the message names it and quotes the end of its log."""


@dataclass
class LocalCluster:
    """A running control plane and the paths a client needs to talk to it."""

    state_dir: Path
    server: str
    pids: dict[str, int] = field(default_factory=dict)
    with_kwok: bool = True

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def ca_file(self) -> Path:
        return self.pki_dir / "ca.crt"

    @property
    def admin_cert(self) -> tuple[str, str]:
        return (str(self.pki_dir / "admin.crt"), str(self.pki_dir / "admin.key"))

    @property
    def audit_log(self) -> Path:
        return self.state_dir / "audit.log"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def bin_dir(self) -> Path:
        return self.state_dir / "bin"

    def kubectl_path(self) -> Path:
        return self.bin_dir / "kubectl"

    def admin_client(self, timeout: float = 30.0) -> httpx.Client:
        """An HTTP client authenticated as a cluster admin (group system:masters)."""
        context = self.tls_context()
        context.load_cert_chain(*self.admin_cert)
        return httpx.Client(base_url=self.server, verify=context, timeout=timeout)

    def tls_context(self) -> ssl.SSLContext:
        """A TLS context that trusts the cluster's CA and nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def running(self) -> bool:
        """Whether every recorded process is alive and the API server answers ready."""
        if not self.pids or not all(processes.alive(pid) for pid in self.pids.values()):
            return False
        try:
            with self.admin_client(timeout=5) as client:
                return client.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Stop every component, the last started first, and wait until none is left."""
        for name in reversed(list(self.pids)):
            processes.stop(self.pids[name])
        self.pids.clear()
        self._save()

    @classmethod
    def attach(cls, state_dir: Path) -> LocalCluster | None:
        """The cluster recorded in `state_dir`, or None when there is no record."""
        try:
            record = json.loads((state_dir / "state.json").read_text())
        except (OSError, ValueError):
            return None
        return cls(
            state_dir=state_dir,
            server=record["server"],
            pids={k: int(v) for k, v in record["pids"].items()},
            with_kwok=bool(record.get("with_kwok", True)),
        )

    @classmethod
    def start(cls, state_dir: Path, *, with_kwok: bool = True) -> LocalCluster:
        """Start a fresh control plane whose state lives in `state_dir`.

        Any earlier state in that folder is wiped. On failure every component started so far is
        stopped before the error propagates.
        """
        names = ["etcd", "kube-apiserver", "kube-controller-manager", "kubectl"]
        if with_kwok:
            names += ["kube-scheduler", "kwok"]
        found = binaries.resolve(names)
        for subfolder in ("pki", "etcd", "logs", "bin"):
            shutil.rmtree(state_dir / subfolder, ignore_errors=True)
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "audit.log").unlink(missing_ok=True)
        (state_dir / "bin").mkdir()
        for name, path in found.items():
            (state_dir / "bin" / name).symlink_to(path.resolve())
        certificates = pki.create(state_dir / "pki")
        apiserver_port = processes.free_port()
        cluster = cls(
            state_dir=state_dir, server=f"https://127.0.0.1:{apiserver_port}", with_kwok=with_kwok
        )
        try:
            cluster._start_all(certificates, apiserver_port)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _start_all(self, certificates: pki.Pki, apiserver_port: int) -> None:
        etcd_port, etcd_peer_port = processes.free_port(), processes.free_port()
        self._launch("etcd", _etcd_command(self, etcd_port, etcd_peer_port))
        self._wait("etcd", lambda: _etcd_healthy(etcd_port))

        _write_kubeconfig(self.kubeconfig, self.server, certificates.ca.cert, certificates.admin)
        self._launch(
            "kube-apiserver", _apiserver_command(self, certificates, apiserver_port, etcd_port)
        )
        self._wait("kube-apiserver", self.running)

        manager_config = self.pki_dir / "kube-controller-manager.kubeconfig"
        _write_kubeconfig(
            manager_config, self.server, certificates.ca.cert, certificates.controller_manager
        )
        self._launch(
            "kube-controller-manager",
            _controller_manager_command(self, certificates, manager_config),
        )
        self._wait("kube-controller-manager", self._default_service_account_exists)

        if self.with_kwok:
            scheduler_config = self.pki_dir / "kube-scheduler.kubeconfig"
            _write_kubeconfig(
                scheduler_config, self.server, certificates.ca.cert, certificates.scheduler
            )
            self._launch("kube-scheduler", _scheduler_command(self, scheduler_config))
            self._launch("kwok", _kwok_command(self))
            self._create_fake_node()
            self._wait("kwok", self._fake_node_ready)
        self._save()

    def _launch(self, name: str, command: list[str]) -> None:
        self.pids[name] = processes.spawn(command, self.logs / f"{name}.log")
        self._save()

    def _wait(self, name: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if not processes.alive(self.pids[name]):
                break
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        log = self.logs / f"{name}.log"
        raise ClusterError(f"{name} did not become ready; its log is {log}:\n{processes.tail(log)}")

    def _default_service_account_exists(self) -> bool:
        with self.admin_client() as client:
            return client.get("/api/v1/namespaces/default/serviceaccounts/default").is_success

    def _create_fake_node(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": FAKE_NODE,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {"kubernetes.io/hostname": FAKE_NODE, "type": "kwok"},
            },
            "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "1000"}},
        }
        with self.admin_client() as client:
            response = client.post("/api/v1/nodes", json=node)
            if response.status_code not in (201, 409):
                raise ClusterError(f"creating the fake node failed: {response.text}")

    def _fake_node_ready(self) -> bool:
        with self.admin_client() as client:
            response = client.get(f"/api/v1/nodes/{FAKE_NODE}")
        if not response.is_success:
            return False
        conditions = response.json().get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def _save(self) -> None:
        record = asdict(self)
        record["state_dir"] = str(self.state_dir)
        (self.state_dir / "state.json").write_text(json.dumps(record, indent=2) + "\n")


def _etcd_healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).is_success


def _etcd_command(cluster: LocalCluster, port: int, peer_port: int) -> list[str]:
    peer = f"http://127.0.0.1:{peer_port}"
    return [
        str(cluster.bin_dir / "etcd"),
        "--name=localcluster",
        f"--data-dir={cluster.state_dir / 'etcd'}",
        f"--listen-client-urls=http://127.0.0.1:{port}",
        f"--advertise-client-urls=http://127.0.0.1:{port}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=localcluster={peer}",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def _apiserver_command(
    cluster: LocalCluster, certificates: pki.Pki, port: int, etcd_port: int
) -> list[str]:
    policy = cluster.pki_dir / "audit-policy.yaml"
    policy.write_text(AUDIT_POLICY)
    return [
        str(cluster.bin_dir / "kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={cluster.pki_dir}",
        f"--tls-cert-file={certificates.serving.cert}",
        f"--tls-private-key-file={certificates.serving.key}",
        f"--client-ca-file={certificates.ca.cert}",
        f"--service-account-key-file={certificates.service_account_public_key}",
        f"--service-account-signing-key-file={certificates.service_account_key}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        "--service-cluster-ip-range=10.0.0.0/24",
        "--authorization-mode=RBAC",
        "--allow-privileged=false",
        f"--audit-policy-file={policy}",
        f"--audit-log-path={cluster.audit_log}",
        "--audit-log-format=json",
        "--audit-log-mode=blocking",
        "--audit-log-maxsize=0",
        "--enable-priority-and-fairness=false",
        "--v=1",
    ]


def _controller_manager_command(
    cluster: LocalCluster, certificates: pki.Pki, kubeconfig: Path
) -> list[str]:
    return [
        str(cluster.bin_dir / "kube-controller-manager"),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={processes.free_port()}",
        f"--cert-dir={cluster.pki_dir / 'kube-controller-manager-serving'}",
        "--leader-elect=false",
        "--controllers=*",
        f"--root-ca-file={certificates.ca.cert}",
        f"--service-account-private-key-file={certificates.service_account_key}",
        "--use-service-account-credentials=true",
        # The default client rate limit (20/s) would make the controllers, not the operator,
        # the bottleneck of every benchmark.
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--v=1",
    ]


def _scheduler_command(cluster: LocalCluster, kubeconfig: Path) -> list[str]:
    return [
        str(cluster.bin_dir / "kube-scheduler"),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={processes.free_port()}",
        f"--cert-dir={cluster.pki_dir / 'kube-scheduler-serving'}",
        "--leader-elect=false",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--v=1",
    ]


def _kwok_command(cluster: LocalCluster) -> list[str]:
    return [
        str(cluster.bin_dir / "kwok"),
        f"--kubeconfig={cluster.kubeconfig}",
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--node-ip=10.0.1.1",
        "--cidr=10.0.2.0/24",
        "--node-lease-duration-seconds=40",
        f"--config={(cluster.bin_dir / 'kwok').resolve().parent / 'kwok-stages.yaml'}",
        f"--server-address=127.0.0.1:{processes.free_port()}",
    ]


def _write_kubeconfig(path: Path, server: str, ca: Path, client: pki.KeyPair) -> None:
    """A kubeconfig in JSON (which is YAML) with absolute paths to the certificate files."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "localcluster",
                "cluster": {"server": server, "certificate-authority": str(ca)},
            }
        ],
        "users": [
            {
                "name": "localcluster-user",
                "user": {"client-certificate": str(client.cert), "client-key": str(client.key)},
            }
        ],
        "contexts": [
            {
                "name": "localcluster",
                "context": {"cluster": "localcluster", "user": "localcluster-user"},
            }
        ],
        "current-context": "localcluster",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    os.chmod(path, 0o600)
