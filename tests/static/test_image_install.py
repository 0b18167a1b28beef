"""The image's install steps, replayed for real outside Docker.

No container engine is needed: the build stage's COPY and RUN instructions are read from the
Dockerfile and executed in a temporary folder, with `/opt/venv` moved under it, and then the
runtime stage's entrypoint is started the way the kubelet would start it. So the test follows
the Dockerfile when it changes, and a lock that no longer installs fails here first.

It needs the package index (or a local wheel mirror configured for pip), and takes about half
a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.static.repo import REPO, Instruction, parse_dockerfile

IMAGE_VENV = "/opt/venv"


@dataclass(frozen=True)
class BuiltImage:
    """A virtualenv made by the Dockerfile's build stage, and how the image would start it."""

    venv: Path
    entrypoint: list[str]
    cmd: list[str]
    env: dict[str, str]


def _env_instruction(arguments: str) -> dict[str, str]:
    """The variables of an `ENV key=value ...` instruction (values without spaces)."""
    variables = {}
    for word in arguments.split():
        key, _, value = word.partition("=")
        variables[key] = value
    return variables


def _relocate(word: str, venv: Path) -> str:
    return word.replace(IMAGE_VENV, str(venv))


def _copy_into(workdir: Path, arguments: str) -> None:
    """Replay a COPY from the build context (the same files that .dockerignore lets in)."""
    *sources, destination = arguments.split()
    target = workdir / destination
    for source in sources:
        origin = REPO / source
        if origin.is_dir():
            shutil.copytree(
                origin,
                target,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
            )
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / origin.name)


def _run_build_stage(instructions: list[Instruction], root: Path) -> BuiltImage:
    venv = root / "venv"
    workdir = root / "src"
    workdir.mkdir()
    env = {**os.environ}
    runtime_env: dict[str, str] = {}

    for instruction in instructions:
        if instruction.stage == 0 and instruction.keyword == "ENV":
            env.update(_env_instruction(instruction.arguments))
        elif instruction.stage == 0 and instruction.keyword == "COPY":
            _copy_into(workdir, instruction.arguments)
        elif instruction.stage == 0 and instruction.keyword == "RUN":
            for command in instruction.shell_commands():
                # The image's `python` is the interpreter this test runs on: same minor version.
                argv = [sys.executable if w == "python" else _relocate(w, venv) for w in command]
                subprocess.run(argv, cwd=workdir, env=env, check=True, capture_output=True)
        elif instruction.stage == 1 and instruction.keyword == "ENV":
            runtime_env.update(_env_instruction(instruction.arguments))

    entrypoint = next(i for i in instructions if i.keyword == "ENTRYPOINT").exec_form()
    cmd = next(i for i in instructions if i.keyword == "CMD").exec_form()
    return BuiltImage(
        venv=venv,
        entrypoint=[_relocate(word, venv) for word in entrypoint],
        cmd=cmd,
        env=runtime_env,
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    root = tmp_path_factory.mktemp("image")
    try:
        return _run_build_stage(parse_dockerfile(), root)
    except subprocess.CalledProcessError as e:
        pytest.fail(f"a build step failed: {e.cmd}\n{e.stdout.decode()}\n{e.stderr.decode()}")


def _start(image: BuiltImage, args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Start the entrypoint with the image's environment and nothing of the developer's."""
    empty_serviceaccount = home / "serviceaccount"
    empty_serviceaccount.mkdir(exist_ok=True)
    env = {
        "PATH": f"{image.venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": image.env["PYTHONDONTWRITEBYTECODE"],
        "PYTHONUNBUFFERED": image.env["PYTHONUNBUFFERED"],
        "TMPDIR": str(home),
        "SERVICEACCOUNT_DIR": str(empty_serviceaccount),
        "LOG_FORMAT": "json",
    }
    return subprocess.run(
        image.entrypoint + args,
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_virtualenv_keeps_no_installer(image: BuiltImage) -> None:
    """pip and setuptools are uninstalled at the end of the build stage."""
    python = str(image.venv / "bin" / "python")
    probe = "import importlib.util as u; print(u.find_spec('pip'), u.find_spec('setuptools'))"

    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)

    assert found.stdout.split() == ["None", "None"]
    assert not (image.venv / "bin" / "pip").exists()


def test_the_entrypoint_shows_its_help(image: BuiltImage, tmp_path: Path) -> None:
    """The console script is installed and its commands import."""
    result = _start(image, ["--help"], tmp_path)

    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout
    assert "check" in result.stdout


def test_the_default_command_without_credentials_fails_with_a_message(
    image: BuiltImage, tmp_path: Path
) -> None:
    """No token, no kubeconfig: a readable error and a non-zero exit, not a traceback."""
    result = _start(image, image.cmd, tmp_path)
    output = result.stdout + result.stderr

    assert result.returncode != 0
    assert "Traceback" not in output
    assert output.strip(), "the operator exited without saying why"
