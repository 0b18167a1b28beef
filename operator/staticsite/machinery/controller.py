"""The level-triggered controller: a work queue of object keys and a few workers reconciling them.

kopf's event handlers only add keys to the queue; a worker takes a key, calls the controller's
reconcile function (which computes the whole desired state and converges), and on failure puts
the key back after a per-key backoff. The reconcile function reads objects from an in-memory
view that kopf's index handlers keep current, so a pass that finds everything in shape makes no
API request at all.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

import structlog

from staticsite.machinery.apply import Applier
from staticsite.machinery.errors import ApiError, OperatorError
from staticsite.machinery.metrics import Metrics
from staticsite.machinery.permissions import Permission
from staticsite.machinery.resources import JsonObject, ObjectKey, ResourceRef
from staticsite.machinery.workqueue import Backoff, WorkQueue

log = structlog.get_logger(__name__)


class Outcome(enum.Enum):
    """How a reconciliation pass ended (also the `result` label of the metrics)."""

    UNCHANGED = "unchanged"  # everything was in shape: no write
    CHANGED = "changed"  # something was applied
    DEGRADED = "degraded"  # the spec or the server refused; reported in status, no retry


@dataclass(frozen=True)
class ReconcileContext:
    """What a reconcile function may use: the writer, the cached view, and the clock."""

    applier: Applier
    view: ObjectView
    now: Callable[[], datetime.datetime] = field(
        default=lambda: datetime.datetime.now(datetime.UTC)
    )


ReconcileFn = Callable[[ReconcileContext, ObjectKey], Awaitable[Outcome]]


@dataclass(frozen=True)
class ControllerSpec:
    """Everything the machinery needs to know about one controller."""

    name: str  # for logs and metrics, e.g. "staticsite"
    field_manager: str  # the server-side apply field manager of all writes
    primary: ResourceRef  # the custom resource the controller serves
    owned: tuple[ResourceRef, ...]  # the kinds it creates, watched to notice drift
    owned_labels: Mapping[str, str]  # labels on every owned object; the watches filter on them
    permissions: tuple[Permission, ...]  # what `reconcile` itself calls (kopf's are added)
    reconcile: ReconcileFn


class ObjectView:
    """Read-only access to the primary objects and their owned objects, as last seen.

    Bound at start-up to kopf's indices: primary key -> the primary's body, and primary key ->
    the bodies of the objects it controls.
    """

    def __init__(self) -> None:
        self._primaries: Mapping[ObjectKey, Iterable[JsonObject]] = {}
        self._owned: Mapping[ObjectKey, Iterable[JsonObject]] = {}
        # Primary objects this process wrote, by key: (the resourceVersion the write was based
        # on, the object the server returned). Kept until the watch shows another version.
        self._written: dict[ObjectKey, tuple[str | None, JsonObject]] = {}

    def bind(
        self,
        primaries: Mapping[ObjectKey, Iterable[JsonObject]],
        owned: Mapping[ObjectKey, Iterable[JsonObject]],
    ) -> None:
        self._primaries = primaries
        self._owned = owned

    def primary(self, key: ObjectKey) -> JsonObject | None:
        """The primary object `key`, or None if it does not exist (any more)."""
        bodies = list(self._primaries.get(key, ()))
        live = [b for b in bodies if not b.get("metadata", {}).get("deletionTimestamp")]
        candidates = live or bodies
        seen = candidates[-1] if candidates else None
        written = self._written.get(key) if seen is not None else self._written.pop(key, None)
        if seen is None or written is None:
            return seen
        based_on, stored = written
        if _resource_version(seen) == based_on:
            # The watch has not delivered this process's own write yet: the write is newer.
            return stored
        del self._written[key]
        return seen

    def remember_write(self, key: ObjectKey, based_on: JsonObject, stored: JsonObject) -> None:
        """Record the object a write of `key` returned, so that the passes that run before the
        watch delivers it compare against what is stored rather than the older version."""
        self._written[key] = (_resource_version(based_on), stored)

    def owned(self, key: ObjectKey, resource: ResourceRef, name: str) -> JsonObject | None:
        """The object of kind `resource` named `name` controlled by the primary `key`."""
        for body in self._owned.get(key, ()):
            if resource.matches(body) and body.get("metadata", {}).get("name") == name:
                return body
        return None


def _resource_version(body: JsonObject) -> str | None:
    version: str | None = body.get("metadata", {}).get("resourceVersion")
    return version


class Controller:
    """The work queue plus its workers for one `ControllerSpec`."""

    def __init__(
        self,
        spec: ControllerSpec,
        context: ReconcileContext,
        metrics: Metrics,
        *,
        workers: int = 4,
    ) -> None:
        self.spec = spec
        self.context = context
        self.metrics = metrics
        self.queue: WorkQueue[ObjectKey] = WorkQueue()
        self._backoff: Backoff[ObjectKey] = Backoff()
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []

    def enqueue(self, key: ObjectKey) -> None:
        """Ask for a reconciliation of `key`; cheap, and collapses with pending requests."""
        self.queue.add(key)
        self.metrics.queue_depth.set(len(self.queue))

    def forget(self, key: ObjectKey) -> None:
        """Drop the failure history of `key` (it was deleted)."""
        self._backoff.forget(key)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"{self.spec.name} worker {index}")
            for index in range(self._workers)
        ]

    async def stop(self) -> None:
        """Cancel the workers (a pass in flight is abandoned) and the delayed retries."""
        self.queue.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _work(self) -> None:
        while True:
            key = await self.queue.get()
            self.metrics.queue_depth.set(len(self.queue))
            try:
                await self.process(key)
            finally:
                self.queue.done(key)

    async def process(self, key: ObjectKey) -> Outcome | None:
        """Reconcile `key` once; on failure, log, count, and schedule a retry with backoff."""
        started = time.monotonic()
        result = "error"
        with structlog.contextvars.bound_contextvars(namespace=key.namespace, name=key.name):
            try:
                outcome = await self.spec.reconcile(self.context, key)
            except OperatorError as error:
                delay = self._backoff.next_delay(key)
                status = error.status if isinstance(error, ApiError) else None
                log.warning(
                    "reconcile failed, will retry", error=str(error), status=status, delay=delay
                )
                self.metrics.reconcile_errors.labels(type(error).__name__).inc()
                self.queue.add_after(key, delay)
                return None
            except Exception:
                # The worker must outlive a bug in one pass; the traceback goes to the log.
                delay = self._backoff.next_delay(key)
                log.exception("reconcile crashed, will retry", delay=delay)
                self.metrics.reconcile_errors.labels("Unexpected").inc()
                self.queue.add_after(key, delay)
                return None
            else:
                self._backoff.forget(key)
                result = outcome.value
                return outcome
            finally:
                self.metrics.reconciliations.labels(result).inc()
                self.metrics.reconcile_duration.observe(time.monotonic() - started)
