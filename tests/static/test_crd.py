"""The StaticSite CRD: its names, its bounded structural schema, its defaults and rules.

The CEL rules themselves run only in an API server (the integration tests apply the CRD and
the examples); here their regular expressions are checked with Python's `re`, which agrees
with RE2 on the constructs they use, and the examples against the OpenAPI part of the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from staticsite.example.resources import DEFAULT_IMAGE, STATICSITE
from tests.static.repo import EXAMPLES, MANIFESTS, find, load_documents

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    return find(
        load_documents(MANIFESTS / "10-crd.yaml"),
        "CustomResourceDefinition",
        "staticsites.sites.example.com",
    )


@pytest.fixture(scope="module")
def version(crd: dict[str, Any]) -> dict[str, Any]:
    (only,) = crd["spec"]["versions"]
    assert isinstance(only, dict)
    return only


@pytest.fixture(scope="module")
def schema(version: dict[str, Any]) -> Schema:
    root: Schema = version["schema"]["openAPIV3Schema"]
    return root


def _walk(node: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}.*")
    if "items" in node:
        yield from _walk(node["items"], f"{path}[]")


def _rule_regex(rules: list[dict[str, str]], needle: str) -> re.Pattern[str]:
    """The regular expression inside the one CEL rule that contains `needle`."""
    (rule,) = [r["rule"] for r in rules if needle in r["rule"]]
    match = re.search(r"matches\(r?'(.*)'\)", rule)
    assert match, rule
    return re.compile(match.group(1))


def _spec(schema: Schema) -> Schema:
    spec: Schema = schema["properties"]["spec"]
    return spec


def _example(name: str) -> dict[str, Any]:
    (document,) = load_documents(EXAMPLES / name)
    return document


def test_the_crd_serves_the_resource_the_operator_watches(
    crd: dict[str, Any], version: dict[str, Any]
) -> None:
    """Group, version, plural and kind match what the operator's code asks the API for."""
    names = crd["spec"]["names"]

    assert crd["spec"]["group"] == STATICSITE.group
    assert version["name"] == STATICSITE.version
    assert (names["plural"], names["kind"]) == (STATICSITE.plural, STATICSITE.kind)
    assert crd["spec"]["scope"] == "Namespaced"
    assert "ss" in names["shortNames"]
    assert version["served"] is True
    assert version["storage"] is True


def test_status_is_a_subresource(version: dict[str, Any]) -> None:
    """Users cannot write status with the spec, and the operator cannot bump the generation."""
    assert version["subresources"] == {"status": {}}


def test_kubectl_get_shows_ready_replicas_url_and_age(version: dict[str, Any]) -> None:
    columns = {c["name"]: (c["type"], c["jsonPath"]) for c in version["additionalPrinterColumns"]}

    assert columns == {
        "Ready": ("string", '.status.conditions[?(@.type=="Ready")].status'),
        "Replicas": ("integer", ".spec.replicas"),
        "URL": ("string", ".status.url"),
        "Age": ("date", ".metadata.creationTimestamp"),
    }


def test_every_string_map_and_list_is_bounded(schema: Schema) -> None:
    """Unbounded values make CEL cost estimates fail and let one object grow without limit.

    apiVersion, kind and metadata are bounded by the API server itself.
    """
    unbounded = []
    for path, node in _walk(schema):
        if path in (".apiVersion", ".kind") or path.startswith(".metadata"):
            continue
        kind = node.get("type")
        if kind == "string" and "maxLength" not in node and "enum" not in node:
            unbounded.append(path)
        if kind == "array" and "maxItems" not in node:
            unbounded.append(path)
        if kind == "object" and "additionalProperties" in node and "maxProperties" not in node:
            unbounded.append(path)

    assert unbounded == []


def test_every_validation_rule_explains_itself(schema: Schema) -> None:
    """A rejected user reads a sentence, not the CEL expression that failed."""
    rules = [rule for _, node in _walk(schema) for rule in node.get("x-kubernetes-validations", [])]

    assert rules
    assert all(rule.get("message") or rule.get("messageExpression") for rule in rules)


def test_files_are_required_with_one_to_64_entries(schema: Schema) -> None:
    files = _spec(schema)["properties"]["files"]

    assert "files" in _spec(schema)["required"]
    assert (files["minProperties"], files["maxProperties"]) == (1, 64)
    assert files["additionalProperties"]["type"] == "string"


def test_file_names_follow_the_configmap_key_rules(schema: Schema) -> None:
    rules = _spec(schema)["properties"]["files"]["x-kubernetes-validations"]
    file_name = _rule_regex(rules, "name.matches")

    assert file_name.fullmatch("index.html")
    assert file_name.fullmatch(".well-known_x-1")
    assert not file_name.fullmatch("pages/index.html")
    assert not file_name.fullmatch("index html")
    assert any("size(name) <= 253" in r["rule"] for r in rules)
    assert any("startsWith('..')" in r["rule"] for r in rules)


def test_the_files_must_fit_in_one_configmap(schema: Schema) -> None:
    """The content is counted in UTF-8 bytes, like the API server counts a ConfigMap's data."""
    rules = _spec(schema)["properties"]["files"]["x-kubernetes-validations"]

    assert "self.map(name, size(bytes(self[name]))).sum() < 1048576" in [r["rule"] for r in rules]


def test_replicas_default_to_one_and_stay_between_0_and_50(schema: Schema) -> None:
    replicas = _spec(schema)["properties"]["replicas"]

    assert replicas["type"] == "integer"
    assert (replicas["default"], replicas["minimum"], replicas["maximum"]) == (1, 0, 50)


def test_the_image_defaults_to_the_one_the_operator_assumes(schema: Schema) -> None:
    image = _spec(schema)["properties"]["image"]

    assert image["default"] == DEFAULT_IMAGE == "nginxinc/nginx-unprivileged:1.27-alpine"
    assert image["maxLength"] <= 512
    assert "image" not in _spec(schema)["required"]


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("nginxinc/nginx-unprivileged:1.27-alpine", True),
        ("nginx", True),
        ("docker.io/library/nginx:1.27", True),
        ("localhost:5000/team/web_server:v1@sha256:" + "a" * 64, True),
        ("registry.example.com/team/web@sha256:" + "0" * 64, True),
        ("Nginx", False),
        ("nginx:", False),
        ("not an image", False),
        ("nginx:1.27;rm -rf /", False),
        ("nginx@sha256:abc", False),
    ],
)
def test_the_image_rule_accepts_image_references_only(
    schema: Schema, reference: str, valid: bool
) -> None:
    image_rule = _rule_regex(
        _spec(schema)["properties"]["image"]["x-kubernetes-validations"], "self.matches"
    )

    assert bool(image_rule.fullmatch(reference)) is valid


def test_status_has_the_standard_condition_shape(schema: Schema) -> None:
    """Conditions look like metav1.Condition, so generic tools (kubectl wait) understand them."""
    status = schema["properties"]["status"]["properties"]
    conditions = status["conditions"]
    condition = conditions["items"]

    assert (status["observedGeneration"]["type"], status["observedGeneration"]["format"]) == (
        "integer",
        "int64",
    )
    assert (status["readyReplicas"]["type"], status["readyReplicas"]["format"]) == (
        "integer",
        "int32",
    )
    assert status["url"]["type"] == "string"
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert set(condition["properties"]) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }
    assert set(condition["required"]) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
    }
    assert condition["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
    assert condition["properties"]["lastTransitionTime"]["format"] == "date-time"


def test_the_example_site_passes_the_schema(schema: Schema) -> None:
    site = _example("staticsite.yaml")

    jsonschema.validate(site, schema)

    assert site["metadata"] == {"name": "hello", "namespace": "staticsite-system"}


def test_the_invalid_example_breaks_the_schema(schema: Schema) -> None:
    """Its replicas alone are out of bounds; its file name and image break CEL rules."""
    site = _example("invalid-staticsite.yaml")
    spec_rules = _spec(schema)["properties"]

    with pytest.raises(jsonschema.ValidationError, match="500 is greater than the maximum of 50"):
        jsonschema.validate(site, schema)
    file_name = _rule_regex(spec_rules["files"]["x-kubernetes-validations"], "name.matches")
    assert not all(file_name.fullmatch(name) for name in site["spec"]["files"])
    image_rule = _rule_regex(spec_rules["image"]["x-kubernetes-validations"], "self.matches")
    assert not image_rule.fullmatch(site["spec"]["image"])
