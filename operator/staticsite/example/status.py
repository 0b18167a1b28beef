"""A StaticSite's status, computed from what was observed (no I/O).

Ready is True once the Deployment has caught up with its latest spec and has the desired number
of updated, ready and available replicas. Degraded is True with the reason and the message of a
problem (an invalid spec, a child the server refused) or of a stuck rollout.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from staticsite.example import reasons
from staticsite.machinery.conditions import FALSE, TRUE, Condition, merge_conditions
from staticsite.machinery.resources import JsonObject


@dataclass(frozen=True)
class Problem:
    """Why the site cannot be brought into shape: a Degraded reason and the details."""

    reason: str
    message: str


def site_url(name: str, namespace: str) -> str:
    return f"http://{name}.{namespace}.svc.cluster.local"


def compute_status(
    site: Mapping[str, Any],
    *,
    desired_replicas: int | None,
    deployment: Mapping[str, Any] | None,
    problem: Problem | None,
    now: datetime.datetime,
) -> JsonObject:
    """The status to store for `site`, given its Deployment as observed and any problem.

    `desired_replicas` is None when the spec could not be parsed.
    """
    metadata = site["metadata"]
    generation = int(metadata.get("generation") or 0)
    previous = (site.get("status") or {}).get("conditions") or []
    ready_replicas = int(((deployment or {}).get("status") or {}).get("readyReplicas") or 0)
    decided = decide_conditions(desired_replicas, deployment, problem)
    return {
        "observedGeneration": generation,
        "readyReplicas": ready_replicas,
        "url": site_url(metadata["name"], metadata["namespace"]),
        "conditions": merge_conditions(previous, decided, generation=generation, now=now),
    }


def decide_conditions(
    desired_replicas: int | None,
    deployment: Mapping[str, Any] | None,
    problem: Problem | None,
) -> list[Condition]:
    """Ready, Progressing and Degraded, in that order."""
    if problem is not None:
        return [
            Condition(reasons.READY, FALSE, problem.reason, problem.message),
            Condition(reasons.PROGRESSING, FALSE, problem.reason, "waiting for a fix"),
            Condition(reasons.DEGRADED, TRUE, problem.reason, problem.message),
        ]

    want = desired_replicas or 0
    status = (deployment or {}).get("status") or {}
    ready = int(status.get("readyReplicas") or 0)
    summary = f"{ready}/{want} replicas ready"
    if deployment is not None and rollout_complete(deployment, want):
        return [
            Condition(reasons.READY, TRUE, reasons.AVAILABLE, summary),
            Condition(reasons.PROGRESSING, FALSE, reasons.ROLLOUT_COMPLETE, summary),
            Condition(reasons.DEGRADED, FALSE, reasons.AS_EXPECTED, ""),
        ]

    stuck = _stuck_message(deployment)
    degraded = (
        Condition(reasons.DEGRADED, TRUE, reasons.PROGRESS_DEADLINE_EXCEEDED, stuck)
        if stuck is not None
        else Condition(reasons.DEGRADED, FALSE, reasons.AS_EXPECTED, "")
    )
    return [
        Condition(reasons.READY, FALSE, reasons.ROLLOUT_IN_PROGRESS, summary),
        Condition(reasons.PROGRESSING, TRUE, reasons.ROLLOUT_IN_PROGRESS, summary),
        degraded,
    ]


def rollout_complete(deployment: Mapping[str, Any], want: int) -> bool:
    """Whether the Deployment observed its latest spec and runs `want` current, ready pods."""
    generation = int(deployment.get("metadata", {}).get("generation") or 0)
    status = deployment.get("status") or {}
    return (
        int(status.get("observedGeneration") or 0) >= generation
        and int(status.get("replicas") or 0) == want
        and int(status.get("updatedReplicas") or 0) >= want
        and int(status.get("readyReplicas") or 0) >= want
        and int(status.get("availableReplicas") or 0) >= want
    )


def _stuck_message(deployment: Mapping[str, Any] | None) -> str | None:
    for condition in ((deployment or {}).get("status") or {}).get("conditions") or []:
        if (
            condition.get("type") == "Progressing"
            and condition.get("status") == FALSE
            and condition.get("reason") == reasons.PROGRESS_DEADLINE_EXCEEDED
        ):
            return str(condition.get("message") or "the Deployment's rollout is stuck")
    return None


def status_changed(desired: Mapping[str, Any], stored: Mapping[str, Any] | None) -> bool:
    """Whether `desired` differs from the stored status (conditions compared by type)."""
    stored = stored or {}
    if any(desired.get(key) != stored.get(key) for key in desired if key != "conditions"):
        return True
    return _by_type(desired.get("conditions")) != _by_type(stored.get("conditions"))


def _by_type(conditions: Any) -> dict[str, Any]:
    return {str(c.get("type")): c for c in conditions or [] if isinstance(c, Mapping)}
