"""Running a controller: credentials, the shared client, the access check, metrics, kopf.

`run_operator` is what `staticsite-operator run` does; `run_check` is `staticsite-operator check`.
Both return a process exit code. SIGTERM and SIGINT are handled by kopf (when running in the
main thread): the watches stop, the workers are cancelled, the client is closed, and the
function returns within seconds.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Sequence
from typing import Any

import kopf
import structlog

from staticsite.machinery.access import AccessReport, check_access
from staticsite.machinery.apply import Applier
from staticsite.machinery.client import KubeClient, open_client
from staticsite.machinery.controller import Controller, ControllerSpec, ObjectView, ReconcileContext
from staticsite.machinery.credentials import ClusterAccess, resolve_access
from staticsite.machinery.errors import ConfigurationError
from staticsite.machinery.kopfwiring import make_kopf_settings, make_registry
from staticsite.machinery.metrics import Metrics, serve_metrics
from staticsite.machinery.permissions import Permission, required_permissions
from staticsite.machinery.settings import Settings

log = structlog.get_logger(__name__)


def all_permissions(spec: ControllerSpec) -> tuple[Permission, ...]:
    """Every permission the operator needs in each watched namespace (what `rbac/` grants)."""
    return required_permissions((spec.primary, *spec.owned), spec.permissions)


def operator_identity() -> Any:
    """How kopf names this process: `POD_ID` (the pod's name) or the host name.

    kopf would otherwise ask the OS for a user name, which fails for a uid without a passwd
    entry, as in a distroless image.
    """
    return os.environ.get("POD_ID") or socket.gethostname()


def liveness_url(settings: Settings) -> str | None:
    """Where kopf serves its liveness endpoint, or None when `HEALTH_PORT` is 0."""
    if not settings.health_port:
        return None
    host = settings.bind_address
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.health_port}/healthz"


def watched_namespaces(settings: Settings, access: ClusterAccess) -> tuple[str, ...]:
    """`WATCH_NAMESPACES`, else the operator's own namespace, else "default"."""
    return settings.watch_namespaces or (access.default_namespace or "default",)


async def run_check(settings: Settings, spec: ControllerSpec) -> int:
    """Run the start-up access check alone, print its report; 0 if it passed, else 1."""
    access = resolve_access(settings)
    namespaces = watched_namespaces(settings, access)
    async with open_client(access, name=spec.field_manager) as client:
        report = await _check(client, access, spec, namespaces)
    print(report.render())
    return 0 if report.ok else 1


async def run_operator(
    settings: Settings,
    spec: ControllerSpec,
    *,
    stop_flag: asyncio.Event | None = None,
    ready_flag: asyncio.Event | None = None,
) -> int:
    """Check access, then run the controller under kopf until a signal or `stop_flag`.

    Returns 1 if the access check fails (nothing is started then), 0 after a clean stop.
    """
    access = resolve_access(settings)
    namespaces = watched_namespaces(settings, access)
    metrics = Metrics(spec.name)
    async with open_client(access, name=spec.field_manager, on_retry=metrics.count_retry) as client:
        report = await _check(client, access, spec, namespaces)
        if not report.ok:
            return 1

        view = ObjectView()
        context = ReconcileContext(applier=Applier(client, spec.field_manager), view=view)
        controller = Controller(spec, context, metrics, workers=settings.workers)
        registry = make_registry(
            primary=spec.primary, owned=spec.owned, access=access, controller=controller, view=view
        )
        metrics_server = None
        if settings.metrics_port:
            try:
                metrics_server = serve_metrics(
                    metrics, settings.bind_address, settings.metrics_port
                )
            except OSError as error:
                raise ConfigurationError(
                    f"cannot serve metrics on {settings.bind_address}:{settings.metrics_port}: "
                    f"{error}"
                ) from error

        # Workers exist before kopf starts, so kopf's shutdown leaves them to us.
        controller.start()
        log.info(
            "operator starting",
            namespaces=list(namespaces),
            workers=settings.workers,
            health_port=settings.health_port,
            metrics_port=settings.metrics_port,
        )
        try:
            await kopf.operator(
                registry=registry,
                settings=make_kopf_settings(spec.owned, spec.owned_labels),
                namespaces=list(namespaces),
                standalone=True,
                identity=operator_identity(),
                liveness_endpoint=liveness_url(settings),
                stop_flag=stop_flag,
                ready_flag=ready_flag,
            )
        finally:
            await controller.stop()
            if metrics_server is not None:
                metrics_server.close()
    log.info("operator stopped")
    return 0


async def _check(
    client: KubeClient,
    access: ClusterAccess,
    spec: ControllerSpec,
    namespaces: Sequence[str],
) -> AccessReport:
    """Run the access check and log what it found, one line per problem or permission."""
    log.info("access check", server=access.server, via=access.source, namespaces=list(namespaces))
    report = await check_access(
        client, primary=spec.primary, permissions=all_permissions(spec), namespaces=namespaces
    )
    for problem in report.problems:
        log.error("access check problem", problem=problem)
    for item in report.missing:
        p = item.permission
        log.error(
            "permission missing",
            verb=p.verb,
            group=p.group,
            resource=p.resource_name,
            namespace=item.namespace,
        )
    if report.ok:
        log.info("access check passed", permissions=len(all_permissions(spec)))
    return report
