"""Standard status conditions.

Each has type, status, reason, message, lastTransitionTime and observedGeneration.

`lastTransitionTime` moves only when a condition's status flips; a new reason or message alone
keeps it, so a pass that finds nothing new computes exactly the status already stored.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from staticsite.machinery.resources import JsonObject

MAX_MESSAGE = 32768  # metav1.Condition's limit; longer server messages are cut

TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Condition:
    """A condition as decided by a reconciliation, before timestamps are attached."""

    type: str
    status: str
    reason: str
    message: str = ""


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with second precision, as Kubernetes writes `metav1.Time`."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def find_condition(conditions: Sequence[Mapping[str, Any]], type_: str) -> Mapping[str, Any] | None:
    """The condition of type `type_`, or None."""
    return next((c for c in conditions if c.get("type") == type_), None)


def merge_conditions(
    previous: Sequence[Mapping[str, Any]],
    decided: Iterable[Condition],
    *,
    generation: int,
    now: datetime.datetime,
) -> list[JsonObject]:
    """The conditions to store: `decided`, in order, with transition times carried over.

    Conditions of types not in `decided` are dropped: the operator owns the whole list.
    """
    merged: list[JsonObject] = []
    for condition in decided:
        before = find_condition(previous, condition.type)
        if before is not None and before.get("status") == condition.status:
            transition = str(before.get("lastTransitionTime") or format_time(now))
        else:
            transition = format_time(now)
        merged.append(
            {
                "type": condition.type,
                "status": condition.status,
                "reason": condition.reason,
                "message": condition.message[:MAX_MESSAGE],
                "lastTransitionTime": transition,
                "observedGeneration": generation,
            }
        )
    return merged
