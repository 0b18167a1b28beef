"""Parsing and validating a StaticSite's spec.

The CRD already enforces these rules with its schema and CEL; they are checked again here so
that an object admitted by an older or edited CRD becomes a Degraded condition with a clear
message instead of a failing pass or a 422 on a child.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from staticsite.example.resources import DEFAULT_IMAGE

FILE_NAME = re.compile(r"^[-._a-zA-Z0-9]+$")
MAX_FILE_NAME = 253
MAX_FILES = 64
MAX_TOTAL_BYTES = 1024 * 1024  # the content must stay under 1 MiB, like a ConfigMap
MAX_REPLICAS = 50


class SpecError(ValueError):
    """The spec breaks a rule; the message says which, for the Degraded condition."""


@dataclass(frozen=True)
class SiteSpec:
    """A validated spec with defaults filled in. TODO(user): your kind's fields."""

    files: Mapping[str, str]
    replicas: int = 1
    image: str = DEFAULT_IMAGE


def parse_spec(spec: Mapping[str, Any]) -> SiteSpec:
    """Validate `spec` and fill in defaults; raises `SpecError` naming the first problem."""
    return SiteSpec(
        files=_files(spec.get("files")),
        replicas=_replicas(spec.get("replicas")),
        image=_image(spec.get("image")),
    )


def _files(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError("spec.files must be a map of file names to contents")
    if len(raw) > MAX_FILES:
        raise SpecError(f"spec.files has {len(raw)} files; at most {MAX_FILES} are allowed")
    total = 0
    for name, content in raw.items():
        if not isinstance(name, str) or not FILE_NAME.match(name) or len(name) > MAX_FILE_NAME:
            raise SpecError(
                f"spec.files: {name!r} is not a valid file name "
                f"(letters, digits, '-', '_', '.'; at most {MAX_FILE_NAME} characters)"
            )
        if name in (".", "..") or name.startswith(".."):
            raise SpecError(f"spec.files: {name!r} is not a valid file name (leading '..')")
        if not isinstance(content, str):
            raise SpecError(f"spec.files[{name!r}] must be a string")
        total += len(content.encode("utf-8"))
    if total >= MAX_TOTAL_BYTES:
        raise SpecError(f"spec.files holds {total} bytes; the total must stay under 1 MiB")
    return {name: raw[name] for name in sorted(raw)}


def _replicas(raw: Any) -> int:
    if raw is None:
        return 1
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_REPLICAS:
        raise SpecError(f"spec.replicas must be an integer from 0 to {MAX_REPLICAS}, got {raw!r}")
    return raw


def _image(raw: Any) -> str:
    if raw is None:
        return DEFAULT_IMAGE
    if not isinstance(raw, str) or not raw or any(c.isspace() for c in raw):
        raise SpecError(f"spec.image must be a non-empty image reference, got {raw!r}")
    return raw
