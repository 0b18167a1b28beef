"""Where the API server is and how to authenticate: one answer shared by kopf and the REST client.

Precedence, first match wins:

1. `KUBERNETES_API_URL` set: talk to that URL without credentials, e.g. a `kubectl proxy`
   sidecar on `http://127.0.0.1:8001` (plain http is accepted on loopback addresses only).
2. A token file in the ServiceAccount folder (`SERVICEACCOUNT_DIR`): in-cluster mode, server
   `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (else
   `https://kubernetes.default.svc`), server certificate verified against `ca.crt`.
3. A kubeconfig (`KUBECONFIG`, else `~/.kube/config`): its current context, with a token, a
   token file or a client certificate. Exec plugins and auth providers are not supported.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import datetime
import ipaddress
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kopf
import yaml

from staticsite.machinery.errors import ConfigurationError
from staticsite.machinery.settings import Settings
from staticsite.machinery.tokens import FileToken, StaticToken, TokenSource

IN_CLUSTER_FALLBACK_SERVER = "https://kubernetes.default.svc"


@dataclass(frozen=True)
class ClusterAccess:
    """The API server's address, how to trust it, and how to authenticate to it."""

    source: str  # "proxy", "serviceaccount" or "kubeconfig": for logs and diagnostics
    server: str
    ca_path: str | None = None
    insecure: bool = False
    client_cert_path: str | None = None
    client_key_path: str | None = None
    token: TokenSource | None = None
    default_namespace: str | None = None

    def connection_info(self, *, lifetime: datetime.timedelta) -> kopf.ConnectionInfo:
        """kopf's view of these credentials, expiring after `lifetime` if a token can rotate.

        The token is re-read from its source first, so a login after a 401 or an expiry sees
        the file as it is now.
        """
        token: str | None = None
        expiration: datetime.datetime | None = None
        if self.token is not None:
            self.token.invalidate()
            token = self.token.token()
            expiration = datetime.datetime.now(datetime.UTC) + lifetime
        return kopf.ConnectionInfo(
            server=self.server,
            ca_path=self.ca_path,
            insecure=self.insecure or None,
            scheme="Bearer" if token else None,
            token=token,
            certificate_path=self.client_cert_path,
            private_key_path=self.client_key_path,
            default_namespace=self.default_namespace,
            expiration=expiration,
        )


def resolve_access(settings: Settings) -> ClusterAccess:
    """Find the credentials by the precedence in the module docstring.

    Raises `ConfigurationError` when none is found or the one found is unusable.
    """
    if settings.api_url is not None:
        return _proxy_access(settings.api_url)
    token_file = settings.serviceaccount_dir / "token"
    if token_file.exists():
        return _serviceaccount_access(settings)
    existing = [path for path in settings.kubeconfig if path.exists()]
    if existing:
        return _kubeconfig_access(existing)
    raise ConfigurationError(
        "no credentials found: set KUBERNETES_API_URL, run in a pod with a ServiceAccount token "
        f"in {settings.serviceaccount_dir}, or provide a kubeconfig (KUBECONFIG or ~/.kube/config)"
    )


def _proxy_access(url: str) -> ClusterAccess:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"KUBERNETES_API_URL must be an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            "KUBERNETES_API_URL: plain http is only accepted to a proxy on a loopback address, "
            f"got {parts.hostname!r}"
        )
    return ClusterAccess(source="proxy", server=url.rstrip("/"))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serviceaccount_access(settings: Settings) -> ClusterAccess:
    folder = settings.serviceaccount_dir
    ca_file = folder / "ca.crt"
    if not ca_file.exists():
        raise ConfigurationError(f"{ca_file} is missing: cannot verify the API server")
    namespace_file = folder / "namespace"
    namespace = None
    if namespace_file.exists():
        namespace = namespace_file.read_text(encoding="utf-8").strip() or None
    host = settings.service_host
    if host:
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        server = f"https://{host}:{settings.service_port or 443}"
    else:
        server = IN_CLUSTER_FALLBACK_SERVER
    return ClusterAccess(
        source="serviceaccount",
        server=server,
        ca_path=str(ca_file),
        token=FileToken(folder / "token"),
        default_namespace=namespace,
    )


def _kubeconfig_access(paths: list[Path]) -> ClusterAccess:
    # Merge like kubectl: for every name, the first file that defines it wins.
    current: str | None = None
    contexts: dict[str, Any] = {}
    clusters: dict[str, tuple[Any, Path]] = {}
    users: dict[str, tuple[Any, Path]] = {}
    for path in paths:
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigurationError(f"cannot read the kubeconfig {path}: {error}") from error
        current = current or config.get("current-context")
        for item in config.get("contexts") or []:
            contexts.setdefault(item["name"], item.get("context") or {})
        for item in config.get("clusters") or []:
            clusters.setdefault(item["name"], (item.get("cluster") or {}, path.parent))
        for item in config.get("users") or []:
            users.setdefault(item["name"], (item.get("user") or {}, path.parent))

    if not current or current not in contexts:
        raise ConfigurationError(f"the kubeconfig has no usable current-context ({current!r})")
    context = contexts[current]
    if context.get("cluster") not in clusters:
        raise ConfigurationError(f"kubeconfig context {current!r} names an unknown cluster")
    cluster, cluster_dir = clusters[context["cluster"]]
    user, user_dir = users.get(context.get("user", ""), ({}, cluster_dir))
    if "exec" in user or "auth-provider" in user:
        raise ConfigurationError(
            f"kubeconfig user of context {current!r} uses an exec plugin or an auth provider, "
            "which this operator does not support; use a token or a client certificate, or run "
            "`kubectl proxy` and set KUBERNETES_API_URL"
        )
    if not cluster.get("server"):
        raise ConfigurationError(f"kubeconfig cluster of context {current!r} has no server")

    token: TokenSource | None = None
    if user.get("token"):
        token = StaticToken(str(user["token"]))
    elif user.get("tokenFile"):
        token = FileToken(user_dir / str(user["tokenFile"]))
    return ClusterAccess(
        source="kubeconfig",
        server=str(cluster["server"]).rstrip("/"),
        ca_path=_file_or_data(cluster, "certificate-authority", cluster_dir),
        insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
        client_cert_path=_file_or_data(user, "client-certificate", user_dir),
        client_key_path=_file_or_data(user, "client-key", user_dir),
        token=token,
        default_namespace=context.get("namespace") or None,
    )


def _file_or_data(section: dict[str, Any], key: str, base: Path) -> str | None:
    """A path for `key`, writing `key-data` (base64) to a private temporary file if needed."""
    if section.get(key):
        return str(base / str(section[key]))
    data = section.get(f"{key}-data")
    if not data:
        return None
    try:
        content = base64.b64decode(str(data), validate=True)
    except binascii.Error as error:
        raise ConfigurationError(f"kubeconfig field {key}-data is not base64") from error
    path = _private_dir() / key
    path.write_bytes(content)
    path.chmod(0o600)
    return str(path)


_private: Path | None = None


def _private_dir() -> Path:
    """A folder only this process can read, removed at exit (for certificates and keys)."""
    global _private
    if _private is None:
        _private = Path(tempfile.mkdtemp(prefix="staticsite-operator-"))
        os.chmod(_private, 0o700)
        atexit.register(shutil.rmtree, _private, ignore_errors=True)
    return _private
