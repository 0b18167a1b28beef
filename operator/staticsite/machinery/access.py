"""The start-up access check: is the API reachable, is the custom resource served, and may the
operator do everything it needs in every watched namespace?

It runs before kopf starts, so that a missing permission ends the process with a readable list
instead of a 403 retry loop. Discovery and SelfSubjectAccessReview are allowed to every
authenticated user by Kubernetes' default roles, so the check itself needs no rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog

from staticsite.machinery.client import KubeClient
from staticsite.machinery.errors import ApiError, NotFoundError, UnauthorizedError
from staticsite.machinery.permissions import Permission
from staticsite.machinery.resources import ResourceRef

SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
CONCURRENT_REVIEWS = 8

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Missing:
    """A permission the operator lacks in one namespace."""

    permission: Permission
    namespace: str


@dataclass
class AccessReport:
    """What the check found; `ok` when there is nothing to fix."""

    problems: list[str] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing

    def render(self) -> str:
        """A plain-text report for people, one line per problem or missing permission."""
        if self.ok:
            return "access check passed: the API is reachable and every permission is granted"
        lines = [f"- {problem}" for problem in self.problems]
        if self.missing:
            lines.append("- missing permissions (grant them to the operator's ServiceAccount):")
            lines += [f"  - {m.permission.describe(m.namespace)}" for m in self.missing]
        return "access check failed:\n" + "\n".join(lines)


async def check_access(
    client: KubeClient,
    *,
    primary: ResourceRef,
    permissions: Iterable[Permission],
    namespaces: Sequence[str],
) -> AccessReport:
    """Run discovery, then one SelfSubjectAccessReview per permission and namespace."""
    report = AccessReport()

    # Without a reachable API or the custom resource, the reviews would only add noise.
    try:
        await client.request("GET", "/api")
    except UnauthorizedError as error:
        report.problems.append(f"the API server refused the credentials: {error.message}")
        return report
    except ApiError as error:
        report.problems.append(f"the API server is not usable: {error}")
        return report
    try:
        group = await client.request("GET", primary.group_version_path)
    except NotFoundError:
        report.problems.append(
            f"the API {primary.api_version} is not served: is the {primary.kind} CRD installed?"
        )
        return report
    except ApiError as error:
        report.problems.append(f"discovery of {primary.api_version} failed: {error}")
        return report
    served = {str(r.get("name")) for r in group.get("resources") or [] if isinstance(r, dict)}
    if primary.plural not in served:
        report.problems.append(f"{primary.api_version} does not serve {primary.plural}")
        return report

    guard = asyncio.Semaphore(CONCURRENT_REVIEWS)
    pairs = [(p, ns) for ns in namespaces for p in permissions]
    answers = await asyncio.gather(*(_review(client, guard, p, ns) for p, ns in pairs))
    for (permission, namespace), allowed in zip(pairs, answers, strict=True):
        if allowed is None:
            report.problems.append(f"could not review {permission.describe(namespace)}")
        elif not allowed:
            report.missing.append(Missing(permission, namespace))
    return report


async def _review(
    client: KubeClient, guard: asyncio.Semaphore, permission: Permission, namespace: str
) -> bool | None:
    """Whether the review allows `permission` in `namespace`; None if the review failed."""
    attributes = {
        "namespace": namespace,
        "verb": permission.verb,
        "group": permission.group,
        "resource": permission.resource,
    }
    if permission.subresource:
        attributes["subresource"] = permission.subresource
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    async with guard:
        try:
            answer = await client.request("POST", SSAR_PATH, body=body)
        except ApiError as error:
            log.warning("access review failed", permission=permission.describe(), error=str(error))
            return None
    return bool((answer.get("status") or {}).get("allowed", False))
