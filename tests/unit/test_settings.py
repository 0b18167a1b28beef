"""Settings from environment variables: defaults, parsing, and readable errors for bad values."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from staticsite.machinery.settings import DEFAULT_SERVICEACCOUNT_DIR, SettingsError, load_settings

HOME = Path("/home/someone")


def test_an_empty_environment_gives_the_defaults() -> None:
    settings = load_settings({}, home=HOME)

    assert settings.watch_namespaces == ()
    assert settings.api_url is None
    assert settings.serviceaccount_dir == DEFAULT_SERVICEACCOUNT_DIR
    assert settings.kubeconfig == (HOME / ".kube" / "config",)
    assert settings.log_format is None
    assert settings.log_level == logging.INFO
    assert settings.health_port == 8081
    assert settings.metrics_port == 8080
    assert settings.bind_address == "0.0.0.0"
    assert settings.workers == 4


def test_every_variable_is_read() -> None:
    env = {
        "WATCH_NAMESPACES": "team-a, team-b,team-a",
        "KUBERNETES_API_URL": "http://127.0.0.1:8001",
        "SERVICEACCOUNT_DIR": "/tmp/sa",
        "KUBECONFIG": "/a/config:/b/config",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "6443",
        "LOG_FORMAT": "Console",
        "LOG_LEVEL": "DEBUG",
        "HEALTH_PORT": "0",
        "METRICS_PORT": "9090",
        "BIND_ADDRESS": "::1",
        "WORKERS": "8",
    }

    settings = load_settings(env, home=HOME)

    assert settings.watch_namespaces == ("team-a", "team-b")
    assert settings.api_url == "http://127.0.0.1:8001"
    assert settings.serviceaccount_dir == Path("/tmp/sa")
    assert settings.kubeconfig == (Path("/a/config"), Path("/b/config"))
    assert settings.service_host == "10.0.0.1"
    assert settings.service_port == 6443
    assert settings.log_format == "console"
    assert settings.log_level == logging.DEBUG
    assert settings.health_port == 0
    assert settings.metrics_port == 9090
    assert settings.bind_address == "::1"
    assert settings.workers == 8


def test_empty_values_count_as_unset() -> None:
    settings = load_settings({"METRICS_PORT": "", "WATCH_NAMESPACES": " "}, home=HOME)

    assert settings.metrics_port == 8080
    assert settings.watch_namespaces == ()


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("METRICS_PORT", "eighty", "METRICS_PORT must be an integer, got 'eighty'"),
        ("HEALTH_PORT", "70000", "HEALTH_PORT must be between 0 and 65535, got 70000"),
        ("WORKERS", "0", "WORKERS must be between 1 and 64, got 0"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of debug, info, warning, error"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be json, console or auto"),
        ("BIND_ADDRESS", "localhost", "BIND_ADDRESS must be an IP address"),
        ("WATCH_NAMESPACES", "ok,Not_Valid", "'Not_Valid' is not a valid namespace name"),
        ("KUBERNETES_SERVICE_PORT", "https", "KUBERNETES_SERVICE_PORT must be an integer"),
    ],
)
def test_a_bad_value_raises_an_error_naming_the_variable(
    name: str, value: str, complaint: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({name: value}, home=HOME)

    assert complaint in str(raised.value)
