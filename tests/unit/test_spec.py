"""Parsing a StaticSite spec: defaults, and a clear error for each broken rule."""

from __future__ import annotations

from typing import Any

import pytest

from staticsite.example.spec import SpecError, parse_spec


def test_an_empty_spec_gets_the_defaults() -> None:
    spec = parse_spec({})

    assert spec.files == {}
    assert spec.replicas == 1
    assert spec.image == "nginxinc/nginx-unprivileged:1.27-alpine"


def test_files_are_kept_sorted_by_name() -> None:
    spec = parse_spec({"files": {"b.css": "b", "a.html": "a"}})

    assert list(spec.files) == ["a.html", "b.css"]


@pytest.mark.parametrize("replicas", [0, 1, 50])
def test_replicas_within_bounds_are_accepted(replicas: int) -> None:
    spec = parse_spec({"replicas": replicas})

    assert spec.replicas == replicas


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"replicas": 51}, "spec.replicas"),
        ({"replicas": -1}, "spec.replicas"),
        ({"replicas": "3"}, "spec.replicas"),
        ({"replicas": True}, "spec.replicas"),
        ({"image": ""}, "spec.image"),
        ({"image": "nginx latest"}, "spec.image"),
        ({"files": ["index.html"]}, "spec.files"),
        ({"files": {"a/b.html": "x"}}, "not a valid file name"),
        ({"files": {"..": "x"}}, "not a valid file name"),
        ({"files": {"..hidden": "x"}}, "not a valid file name"),
        ({"files": {"x" * 254: "x"}}, "not a valid file name"),
        ({"files": {"index.html": 3}}, "must be a string"),
        ({"files": {f"f{i}": "" for i in range(65)}}, "at most 64"),
        ({"files": {"big.txt": "x" * 1024 * 1024}}, "under 1 MiB"),
    ],
)
def test_a_broken_rule_raises_a_spec_error_that_names_it(spec: Any, complaint: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_spec(spec)

    assert complaint in str(raised.value)


def test_the_size_limit_counts_bytes_not_characters() -> None:
    almost = "é" * (512 * 1024)  # two bytes each: exactly 1 MiB

    with pytest.raises(SpecError):
        parse_spec({"files": {"a.txt": almost}})
