"""Every setting of the operator, read from environment variables in one place.

Each variable has a default; a bad value raises `SettingsError` with a message that names the
variable, so that the command line can print it and exit instead of showing a traceback.

- WATCH_NAMESPACES: comma-separated namespaces to serve; default: the operator's own namespace
  (the ServiceAccount's `namespace` file, else the kubeconfig context's, else "default").
- KUBERNETES_API_URL: talk to this URL without credentials (a `kubectl proxy` sidecar); unset.
- SERVICEACCOUNT_DIR: token, ca.crt and namespace; default
  /var/run/secrets/kubernetes.io/serviceaccount.
- KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT: the API server in a pod (set by Kubernetes).
- KUBECONFIG: kubeconfig files outside a cluster; default ~/.kube/config.
- LOG_FORMAT: json, console or auto (default: console on a terminal, json otherwise).
- LOG_LEVEL: debug, info (default), warning or error.
- HEALTH_PORT: kopf's liveness endpoint, path /healthz; default 8081; 0 turns it off.
- METRICS_PORT: Prometheus metrics, path /metrics; default 8080; 0 turns it off.
- BIND_ADDRESS: the IP address both endpoints listen on; default 0.0.0.0.
- WORKERS: how many reconciliations run at once; default 4, at most 64.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from staticsite.machinery.errors import ConfigurationError

DEFAULT_SERVICEACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
LogFormat = Literal["json", "console"]

_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class SettingsError(ConfigurationError):
    """An environment variable has a value the operator cannot use."""


@dataclass(frozen=True)
class Settings:
    """The parsed configuration; see the module docstring for the variables behind each field."""

    watch_namespaces: tuple[str, ...] = ()
    api_url: str | None = None
    serviceaccount_dir: Path = DEFAULT_SERVICEACCOUNT_DIR
    kubeconfig: tuple[Path, ...] = ()
    service_host: str | None = None
    service_port: int | None = None
    log_format: LogFormat | None = None
    log_level: int = logging.INFO
    health_port: int = 8081
    metrics_port: int = 8080
    bind_address: str = "0.0.0.0"
    workers: int = 4


def load_settings(environ: Mapping[str, str] | None = None, home: Path | None = None) -> Settings:
    """Read the settings from `environ` (default: the process environment).

    Unset and empty variables take their defaults. Raises `SettingsError` on the first bad value.
    """
    env = os.environ if environ is None else environ
    home = Path.home() if home is None else home

    return Settings(
        watch_namespaces=_namespaces(env),
        api_url=_get(env, "KUBERNETES_API_URL"),
        serviceaccount_dir=Path(_get(env, "SERVICEACCOUNT_DIR") or DEFAULT_SERVICEACCOUNT_DIR),
        kubeconfig=_kubeconfig_paths(env, home),
        service_host=_get(env, "KUBERNETES_SERVICE_HOST"),
        service_port=_integer(env, "KUBERNETES_SERVICE_PORT", None, low=1, high=65535),
        log_format=_log_format(env),
        log_level=_log_level(env),
        health_port=_port(env, "HEALTH_PORT", 8081),
        metrics_port=_port(env, "METRICS_PORT", 8080),
        bind_address=_bind_address(env),
        workers=_integer(env, "WORKERS", 4, low=1, high=64) or 4,
    )


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _namespaces(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = _get(env, "WATCH_NAMESPACES")
    if raw is None:
        return ()
    names = [part.strip() for part in raw.split(",") if part.strip()]
    for name in names:
        if len(name) > 63 or not _NAMESPACE.match(name):
            raise SettingsError(f"WATCH_NAMESPACES: {name!r} is not a valid namespace name")
    return tuple(dict.fromkeys(names))


def _kubeconfig_paths(env: Mapping[str, str], home: Path) -> tuple[Path, ...]:
    raw = _get(env, "KUBECONFIG")
    if raw is None:
        return (home / ".kube" / "config",)
    return tuple(Path(part).expanduser() for part in raw.split(os.pathsep) if part)


def _integer(
    env: Mapping[str, str], name: str, default: int | None, *, low: int, high: int
) -> int | None:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _integer(env, name, default, low=0, high=65535)
    return default if value is None else value


def _log_format(env: Mapping[str, str]) -> LogFormat | None:
    raw = (_get(env, "LOG_FORMAT") or "auto").lower()
    if raw == "auto":
        return None
    if raw == "json":
        return "json"
    if raw == "console":
        return "console"
    raise SettingsError(f"LOG_FORMAT must be json, console or auto, got {raw!r}")


def _log_level(env: Mapping[str, str]) -> int:
    raw = (_get(env, "LOG_LEVEL") or "info").lower()
    if raw not in _LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(_LEVELS)}, got {raw!r}")
    return _LEVELS[raw]


def _bind_address(env: Mapping[str, str]) -> str:
    raw = _get(env, "BIND_ADDRESS") or "0.0.0.0"
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise SettingsError(f"BIND_ADDRESS must be an IP address, got {raw!r}") from None
