"""A StaticSite's status, computed from its Deployment and from any problem found."""

from __future__ import annotations

import datetime
from typing import Any

from staticsite.example import reasons
from staticsite.example.status import Problem, compute_status, status_changed
from staticsite.machinery.resources import JsonObject
from tests.unit.helpers import make_site

NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(minutes=5)


def deployment(
    *, generation: int = 1, observed: int = 1, replicas: int = 2, ready: int = 2, **extra: Any
) -> JsonObject:
    status = {
        "observedGeneration": observed,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": ready,
        "availableReplicas": ready,
        **extra,
    }
    return {"metadata": {"name": "web", "generation": generation}, "status": status}


def conditions(status: JsonObject) -> dict[str, JsonObject]:
    return {c["type"]: c for c in status["conditions"]}


def test_status_names_the_generation_the_ready_replicas_and_the_url() -> None:
    site = make_site(generation=7)

    status = compute_status(
        site, desired_replicas=2, deployment=deployment(), problem=None, now=NOW
    )

    assert status["observedGeneration"] == 7
    assert status["readyReplicas"] == 2
    assert status["url"] == "http://web.sites.svc.cluster.local"
    assert list(conditions(status)) == ["Ready", "Progressing", "Degraded"]


def test_site_is_ready_when_the_deployment_caught_up_with_every_replica_ready() -> None:
    status = compute_status(
        make_site(), desired_replicas=2, deployment=deployment(), problem=None, now=NOW
    )

    found = conditions(status)
    assert found["Ready"]["status"] == "True"
    assert found["Ready"]["reason"] == reasons.AVAILABLE
    assert found["Progressing"]["status"] == "False"
    assert found["Degraded"]["status"] == "False"


def test_site_is_not_ready_while_replicas_are_missing() -> None:
    status = compute_status(
        make_site(), desired_replicas=2, deployment=deployment(ready=1), problem=None, now=NOW
    )

    found = conditions(status)
    assert found["Ready"]["status"] == "False"
    assert found["Ready"]["message"] == "1/2 replicas ready"
    assert found["Progressing"]["status"] == "True"
    assert status["readyReplicas"] == 1


def test_site_is_not_ready_before_the_deployment_observed_its_latest_spec() -> None:
    stale = deployment(generation=3, observed=2)

    status = compute_status(
        make_site(), desired_replicas=2, deployment=stale, problem=None, now=NOW
    )

    assert conditions(status)["Ready"]["status"] == "False"


def test_site_is_not_ready_without_a_deployment() -> None:
    status = compute_status(make_site(), desired_replicas=1, deployment=None, problem=None, now=NOW)

    assert conditions(status)["Ready"]["reason"] == reasons.ROLLOUT_IN_PROGRESS
    assert status["readyReplicas"] == 0


def test_a_site_scaled_to_zero_is_ready_once_the_deployment_caught_up() -> None:
    scaled = deployment(replicas=0, ready=0)

    status = compute_status(
        make_site(), desired_replicas=0, deployment=scaled, problem=None, now=NOW
    )

    assert conditions(status)["Ready"]["status"] == "True"


def test_a_problem_makes_the_site_degraded_with_its_reason_and_message() -> None:
    problem = Problem(reasons.APPLY_REJECTED, "Deployment web: spec.replicas: Invalid value")

    status = compute_status(
        make_site(), desired_replicas=1, deployment=deployment(), problem=problem, now=NOW
    )

    found = conditions(status)
    assert found["Degraded"]["status"] == "True"
    assert found["Degraded"]["reason"] == "ApplyRejected"
    assert found["Degraded"]["message"] == "Deployment web: spec.replicas: Invalid value"
    assert found["Ready"]["status"] == "False"


def test_a_stuck_rollout_makes_the_site_degraded() -> None:
    stuck = deployment(
        ready=0,
        conditions=[
            {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": 'ReplicaSet "web-1" has timed out progressing.',
            }
        ],
    )

    status = compute_status(
        make_site(), desired_replicas=2, deployment=stuck, problem=None, now=NOW
    )

    degraded = conditions(status)["Degraded"]
    assert degraded["status"] == "True"
    assert degraded["reason"] == reasons.PROGRESS_DEADLINE_EXCEEDED


def test_recomputing_an_unchanged_situation_later_reports_no_change() -> None:
    first = compute_status(
        make_site(), desired_replicas=2, deployment=deployment(), problem=None, now=NOW
    )
    site = make_site(status=first)

    second = compute_status(
        site, desired_replicas=2, deployment=deployment(), problem=None, now=LATER
    )

    assert not status_changed(second, site["status"])


def test_a_flip_to_ready_is_a_change_with_a_new_transition_time() -> None:
    before = compute_status(
        make_site(), desired_replicas=2, deployment=deployment(ready=0), problem=None, now=NOW
    )
    site = make_site(status=before)

    after = compute_status(
        site, desired_replicas=2, deployment=deployment(), problem=None, now=LATER
    )

    assert status_changed(after, site["status"])
    assert conditions(after)["Ready"]["lastTransitionTime"] == "2024-05-01T12:05:00Z"


def test_condition_order_does_not_count_as_a_change() -> None:
    status = compute_status(
        make_site(), desired_replicas=2, deployment=deployment(), problem=None, now=NOW
    )
    stored = {**status, "conditions": list(reversed(status["conditions"]))}

    assert not status_changed(status, stored)
