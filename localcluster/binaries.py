"""Finds the control plane's binaries, building the missing ones into a cache outside the repo.

Binaries are looked up in this order: the folder named by `KUBEBUILDER_ASSETS` (the envtest
convention), then PATH (only when the binary reports a compatible version), then the build
cache, keyed by component and version. What is found nowhere is built from Go modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from localcluster import gobuild

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.17"
KWOK_VERSION = "v0.8.0"
SKAFFOLD_VERSION = "v2.19.0"
SKAFFOLD_SCHEMA = "v4beta14"

# Bump when the way binaries are built changes, so that stale caches are not reused.
_RECIPE_REVISION = "2"


@dataclass(frozen=True)
class Component:
    """One binary of the control plane and how to get it."""

    binary: str
    recipe: Callable[[], gobuild.Recipe]
    version_args: tuple[str, ...]
    compatible: Callable[[str], bool]


def _kubernetes_minor(output: str) -> int | None:
    match = re.search(r"v1\.(\d+)\.", output)
    return int(match.group(1)) if match else None


_PINNED_MINOR = int(KUBERNETES_VERSION.split(".")[1])


def _same_minor(output: str) -> bool:
    return _kubernetes_minor(output) == _PINNED_MINOR


def _kubectl_skew(output: str) -> bool:
    minor = _kubernetes_minor(output)
    return minor is not None and abs(minor - _PINNED_MINOR) <= 1


def _etcd_supported(output: str) -> bool:
    return re.search(r"etcd Version: 3\.(5|6)\.", output) is not None


def _kubernetes() -> gobuild.Recipe:
    return gobuild.kubernetes_recipe(KUBERNETES_VERSION)


COMPONENTS: dict[str, Component] = {
    "etcd": Component(
        "etcd", lambda: gobuild.etcd_recipe(ETCD_VERSION), ("--version",), _etcd_supported
    ),
    "kube-apiserver": Component("kube-apiserver", _kubernetes, ("--version",), _same_minor),
    "kube-controller-manager": Component(
        "kube-controller-manager", _kubernetes, ("--version",), _same_minor
    ),
    "kube-scheduler": Component("kube-scheduler", _kubernetes, ("--version",), _same_minor),
    "kubectl": Component("kubectl", _kubernetes, ("version", "--client"), _kubectl_skew),
    "kwok": Component(
        "kwok", lambda: gobuild.kwok_recipe(KWOK_VERSION), ("--version",), lambda _: True
    ),
    # Not part of the cluster: the tests use it to check skaffold.yaml.
    "skaffold": Component(
        "skaffold",
        lambda: gobuild.skaffold_recipe(SKAFFOLD_VERSION, SKAFFOLD_SCHEMA),
        ("version",),
        lambda _: False,
    ),
}


def cache_root() -> Path:
    """Where built binaries are kept: `LOCALCLUSTER_CACHE`, else the user's cache folder."""
    configured = os.environ.get("LOCALCLUSTER_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "staticsite-localcluster"


def cache_folder(recipe: gobuild.Recipe) -> Path:
    return cache_root() / f"{recipe.name}-{recipe.version}-r{_RECIPE_REVISION}"


def resolve(names: Iterable[str]) -> dict[str, Path]:
    """Return a path for every named binary, building what is missing.

    Raises `gobuild.BuildError` when a build fails.
    """
    found: dict[str, Path] = {}
    for name in names:
        component = COMPONENTS[name]
        path = _find_installed(component) or _find_cached(component)
        if path is None:
            recipe = component.recipe()
            with _build_lock():
                # Another process may have built it while this one waited for the lock.
                if _find_cached(component) is None:
                    gobuild.build(recipe, cache_folder(recipe))
            path = _find_cached(component)
            if path is None:
                raise gobuild.BuildError(f"building {recipe.describe()} produced no {name}")
        found[name] = path
    return found


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise builds across processes, so that two test runs never build the same thing."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _find_installed(component: Component) -> Path | None:
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        candidate = Path(assets) / component.binary
        if os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(component.binary)
    if on_path and _reports_compatible_version(component, Path(on_path)):
        return Path(on_path)
    return None


def _find_cached(component: Component) -> Path | None:
    candidate = cache_folder(component.recipe()) / component.binary
    return candidate if os.access(candidate, os.X_OK) else None


def _reports_compatible_version(component: Component, path: Path) -> bool:
    try:
        result = subprocess.run(
            [str(path), *component.version_args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return component.compatible(result.stdout + result.stderr)
