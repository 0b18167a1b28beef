"""Finding the credentials: the precedence of sources, in-cluster addresses, kubeconfig parsing."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from staticsite.machinery.credentials import resolve_access
from staticsite.machinery.errors import ConfigurationError
from staticsite.machinery.settings import Settings
from staticsite.machinery.tokens import FileToken, StaticToken


def serviceaccount_dir(folder: Path, namespace: str = "staticsite-system") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text("sa-token")
    (folder / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (folder / "namespace").write_text(namespace)
    return folder


def kubeconfig(path: Path, *, user: Mapping[str, object], namespace: str | None = None) -> Path:
    context: dict[str, object] = {"cluster": "local", "user": "me"}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "here",
        "contexts": [{"name": "here", "context": context}],
        "clusters": [
            {
                "name": "local",
                "cluster": {"server": "https://127.0.0.1:6443/", "certificate-authority": "ca.crt"},
            }
        ],
        "users": [{"name": "me", "user": user}],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_proxy_url_wins_over_everything_else(tmp_path: Path) -> None:
    folder = serviceaccount_dir(tmp_path / "sa")
    settings = Settings(api_url="http://127.0.0.1:8001", serviceaccount_dir=folder)

    access = resolve_access(settings)

    assert access.source == "proxy"
    assert access.server == "http://127.0.0.1:8001"
    assert access.token is None


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        resolve_access(Settings(api_url="http://10.1.2.3:8001"))


def test_the_serviceaccount_folder_wins_over_a_kubeconfig(tmp_path: Path) -> None:
    folder = serviceaccount_dir(tmp_path / "sa")
    config = kubeconfig(tmp_path / "config", user={"token": "kube-token"})
    settings = Settings(serviceaccount_dir=folder, kubeconfig=(config,), service_host="10.0.0.1")

    access = resolve_access(settings)

    assert access.source == "serviceaccount"
    assert access.server == "https://10.0.0.1:443"
    assert access.ca_path == str(folder / "ca.crt")
    assert access.default_namespace == "staticsite-system"
    assert isinstance(access.token, FileToken)
    assert access.token.token() == "sa-token"


def test_an_ipv6_service_host_is_put_in_brackets(tmp_path: Path) -> None:
    folder = serviceaccount_dir(tmp_path / "sa")
    settings = Settings(serviceaccount_dir=folder, service_host="fd00::1", service_port=6443)

    access = resolve_access(settings)

    assert access.server == "https://[fd00::1]:6443"


def test_without_a_service_host_the_cluster_dns_name_is_used(tmp_path: Path) -> None:
    settings = Settings(serviceaccount_dir=serviceaccount_dir(tmp_path / "sa"))

    access = resolve_access(settings)

    assert access.server == "https://kubernetes.default.svc"


def test_a_serviceaccount_folder_without_a_ca_is_refused(tmp_path: Path) -> None:
    folder = serviceaccount_dir(tmp_path / "sa")
    (folder / "ca.crt").unlink()

    with pytest.raises(ConfigurationError, match=r"ca\.crt"):
        resolve_access(Settings(serviceaccount_dir=folder))


def test_a_kubeconfig_is_used_outside_a_cluster(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "config", user={"token": "kube-token"}, namespace="dev")
    settings = Settings(serviceaccount_dir=tmp_path / "absent", kubeconfig=(config,))

    access = resolve_access(settings)

    assert access.source == "kubeconfig"
    assert access.server == "https://127.0.0.1:6443"
    assert access.ca_path == str(tmp_path / "ca.crt")
    assert access.default_namespace == "dev"
    assert isinstance(access.token, StaticToken)


def test_kubeconfig_certificate_data_is_written_to_private_files(tmp_path: Path) -> None:
    cert = base64.b64encode(b"CERT").decode()
    key = base64.b64encode(b"KEY").decode()
    user = {"client-certificate-data": cert, "client-key-data": key}
    config = kubeconfig(tmp_path / "config", user=user)

    access = resolve_access(Settings(serviceaccount_dir=tmp_path / "absent", kubeconfig=(config,)))

    assert access.client_cert_path is not None
    assert access.client_key_path is not None
    assert Path(access.client_cert_path).read_bytes() == b"CERT"
    assert Path(access.client_key_path).read_bytes() == b"KEY"
    assert Path(access.client_key_path).stat().st_mode & 0o077 == 0
    assert access.token is None


def test_a_kubeconfig_token_file_rotates_like_a_serviceaccount_token(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-file")
    config = kubeconfig(tmp_path / "config", user={"tokenFile": "token"})

    access = resolve_access(Settings(serviceaccount_dir=tmp_path / "absent", kubeconfig=(config,)))

    assert isinstance(access.token, FileToken)
    assert access.token.token() == "from-file"


def test_an_exec_plugin_is_refused_with_a_way_out(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "config", user={"exec": {"command": "aws"}})

    with pytest.raises(ConfigurationError, match="kubectl proxy"):
        resolve_access(Settings(serviceaccount_dir=tmp_path / "absent", kubeconfig=(config,)))


def test_no_source_at_all_is_a_configuration_error(tmp_path: Path) -> None:
    settings = Settings(serviceaccount_dir=tmp_path / "absent", kubeconfig=(tmp_path / "none",))

    with pytest.raises(ConfigurationError, match="no credentials found"):
        resolve_access(settings)
