"""One reconciliation pass for one StaticSite: compute everything from the spec, converge, report.

Level-triggered: the pass ignores what event woke it up. It reads the StaticSite and its
children from the controller's view (no request), applies only the children that differ from
what they should be, and writes the status only when it changed. A pass over a site that is in
shape therefore makes no API request at all.
"""

from __future__ import annotations

import structlog

from staticsite.example import reasons
from staticsite.example.children import EXACT_FIELDS, desired_children
from staticsite.example.resources import DEPLOYMENT, STATICSITE
from staticsite.example.spec import SiteSpec, SpecError, parse_spec
from staticsite.example.status import Problem, compute_status, status_changed
from staticsite.machinery.apply import needs_apply
from staticsite.machinery.controller import Outcome, ReconcileContext
from staticsite.machinery.errors import InvalidError, NotFoundError
from staticsite.machinery.resources import JsonObject, ObjectKey

log = structlog.get_logger(__name__)


async def reconcile(ctx: ReconcileContext, key: ObjectKey) -> Outcome:
    """Bring the StaticSite `key` and its children into shape; see the module docstring.

    A site that no longer exists, or is being deleted, is left to the garbage collector.
    Raises `ApiError` for failures worth a retry; a 422 on a child becomes Degraded instead.
    """
    site = ctx.view.primary(key)
    if site is None or site["metadata"].get("deletionTimestamp"):
        log.debug("site gone or going, nothing to do")
        return Outcome.UNCHANGED

    changed = False
    problem: Problem | None = None
    spec: SiteSpec | None = None
    deployment = ctx.view.owned(key, DEPLOYMENT, key.name)
    try:
        spec = parse_spec(site.get("spec") or {})
    except SpecError as error:
        problem = Problem(reasons.INVALID_SPEC, str(error))
        log.warning("spec rejected", reason=problem.reason, message=problem.message)

    # Children: apply only what differs, so that a pass over a healthy site writes nothing.
    if spec is not None:
        for resource, desired in desired_children(site, spec):
            name = desired["metadata"]["name"]
            observed = ctx.view.owned(key, resource, name)
            if not needs_apply(desired, observed, exact=EXACT_FIELDS.get(resource.kind, ())):
                continue
            try:
                stored = await ctx.applier.apply(resource, desired)
            except InvalidError as error:
                problem = Problem(
                    reasons.APPLY_REJECTED, f"{resource.kind} {name}: {error.message}"
                )
                log.warning("child rejected", kind=resource.kind, child=name, message=error.message)
                continue
            changed = True
            log.info("child applied", kind=resource.kind, child=name, created=observed is None)
            if resource == DEPLOYMENT:
                deployment = stored

    # Status: written only when it differs from what is stored.
    status = compute_status(
        site,
        desired_replicas=spec.replicas if spec is not None else None,
        deployment=deployment,
        problem=problem,
        now=ctx.now(),
    )
    if status_changed(status, site.get("status")):
        try:
            stored_site = await ctx.applier.apply_status(STATICSITE, key, status)
        except NotFoundError:
            log.debug("site deleted before its status was written")
            return Outcome.UNCHANGED
        ctx.view.remember_write(key, site, stored_site)
        changed = True
        log.info("status updated", ready=_ready(status), ready_replicas=status["readyReplicas"])

    if problem is not None:
        return Outcome.DEGRADED
    return Outcome.CHANGED if changed else Outcome.UNCHANGED


def _ready(status: JsonObject) -> str:
    for condition in status["conditions"]:
        if condition["type"] == reasons.READY:
            return str(condition["status"])
    return "Unknown"
