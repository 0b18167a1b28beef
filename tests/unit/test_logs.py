"""The logging pipeline: kopf's stdlib records and structlog lines come out as the same JSON."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import kopf
import pytest
import structlog

from staticsite.machinery.logs import configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    configure_logging(level=logging.DEBUG, fmt="json", stream=buffer)
    yield buffer
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_kopf_object_record_becomes_json_with_the_objects_namespace_and_name(
    stream: io.StringIO,
) -> None:
    body = kopf.Body(
        {
            "apiVersion": "sites.example.com/v1alpha1",
            "kind": "StaticSite",
            "metadata": {"name": "web", "namespace": "sites", "uid": "u1"},
        }
    )
    logger = kopf.ObjectLogger(body=body, settings=kopf.OperatorSettings())

    logger.warning("Something happened.")

    (line,) = lines(stream)
    assert line["event"] == "Something happened."
    assert line["namespace"] == "sites"
    assert line["name"] == "web"
    assert line["kind"] == "StaticSite"
    assert line["level"] == "warning"
    assert "settings" not in line
    assert "k8s_ref" not in line
    assert "k8s_skip" not in line


def test_unserialisable_extras_become_strings(stream: io.StringIO) -> None:
    logging.getLogger("kopf.test").info("with extras", extra={"thing": object(), "n": 3})

    (line,) = lines(stream)
    assert line["n"] == 3
    assert isinstance(line["thing"], str)


def test_structlog_lines_keep_a_constant_event_and_data_in_fields(stream: io.StringIO) -> None:
    structlog.get_logger("staticsite.test").info("child applied", kind="ConfigMap", child="web")

    (line,) = lines(stream)
    assert line["event"] == "child applied"
    assert line["kind"] == "ConfigMap"
    assert line["logger"] == "staticsite.test"
    assert "timestamp" in line


def test_bound_context_names_the_resource_in_every_line(stream: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(namespace="sites", name="web"):
        logging.getLogger("somelib").info("inside a reconciliation")

    (line,) = lines(stream)
    assert (line["namespace"], line["name"]) == ("sites", "web")


def test_tokens_never_reach_the_output(stream: io.StringIO) -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

    structlog.get_logger("t").info("oops", token="abc", header="Authorization: Bearer abc.def")
    logging.getLogger("kopf.x").error("failed with %s", jwt)

    output = stream.getvalue()
    assert "abc.def" not in output
    assert '"abc"' not in output
    assert jwt not in output


def test_kopf_routine_lines_are_demoted_to_debug() -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        configure_logging(level=logging.INFO, fmt="json", stream=buffer)

        logging.getLogger("kopf.objects").info("Handler 'primary' succeeded.")
        logging.getLogger("kopf.objects").info("Something else.")
    finally:
        root.handlers[:] = saved
        structlog.reset_defaults()

    assert [line["event"] for line in lines(buffer)] == ["Something else."]


def test_kopf_requests_it_will_retry_are_warnings_not_errors(stream: io.StringIO) -> None:
    logging.getLogger("kopf._cogs.clients.watching").error(
        "Request attempt #1/9 failed; will retry: GET https://api/apis/x -> TooManyRequests"
    )

    (line,) = lines(stream)
    assert line["level"] == "warning"


def test_exceptions_are_rendered_into_the_json_line(stream: io.StringIO) -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("kopf.x").exception("handler failed")

    (line,) = lines(stream)
    assert "ValueError: bad" in line["exception"]
