"""Builds the control plane's binaries from Go modules served by the module proxy.

Kubernetes and etcd publish main modules whose go.mod replaces their own sub-modules with paths
inside their source trees, so `go install module@version` refuses them. Each build here writes a
small wrapper module that requires the main module and replaces every such sub-module with its
published release, derived from the main module's own go.mod rather than typed by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_MODULE = "k8s.io/kubernetes"
ETCD_SERVER_MODULE = "go.etcd.io/etcd/server/v3"
KWOK_MODULE = "sigs.k8s.io/kwok"
SKAFFOLD_MODULE = "github.com/GoogleContainerTools/skaffold/v2"

_REPLACE_BLOCK = re.compile(r"^replace \($(?P<body>.*?)^\)$", re.MULTILINE | re.DOTALL)
_REPLACE_LINE = re.compile(r"^replace (?P<line>.+)$", re.MULTILINE)


class BuildError(RuntimeError):
    """A Go build failed; the message names the module, the version and the tool's output."""


@dataclass(frozen=True)
class Recipe:
    """How to build a set of binaries from one Go module at one version."""

    name: str
    module: str
    version: str
    packages: tuple[str, ...]
    ldflags: str = ""
    wrapper_main: str | None = None
    """Source of a main.go for modules that publish no main package of their own."""
    copy_module_replacements: bool = False
    """Whether the main module's replacements of one module by another must be kept too."""
    bundles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Files to write beside the binaries: (name, globs of YAML files in the module's source)."""

    def describe(self) -> str:
        return f"{self.module}@{self.version}"


def kubernetes_recipe(version: str) -> Recipe:
    """The Kubernetes components, stamped with their real version."""
    major, minor = version.lstrip("v").split(".")[:2]
    stamp = {
        "gitVersion": version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
    }
    ldflags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        ldflags += [f"-X {package}.{key}={value}" for key, value in stamp.items()]
    commands = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
    return Recipe(
        name="kubernetes",
        module=KUBERNETES_MODULE,
        version=version,
        packages=tuple(f"{KUBERNETES_MODULE}/cmd/{command}" for command in commands),
        ldflags=" ".join(ldflags),
    )


def etcd_recipe(version: str) -> Recipe:
    """etcd's server, through a three-line main that calls the server's own entry point."""
    main = (
        'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\n'
        "func main() { etcdmain.Main(os.Args) }\n"
    )
    return Recipe(
        name="etcd",
        module=ETCD_SERVER_MODULE,
        version=version,
        packages=(".",),
        ldflags="-s -w",
        wrapper_main=main,
    )


def kwok_recipe(version: str) -> Recipe:
    """kwok, which plays the kubelet for fake nodes so that pods become ready."""
    return Recipe(
        name="kwok",
        module=KWOK_MODULE,
        version=version,
        packages=(f"{KWOK_MODULE}/cmd/kwok",),
        ldflags=f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={version}",
        # kwok starts with no behaviour at all: its stages say how fake nodes and pods evolve.
        # These are the "fast" stages kwok publishes, with node heartbeats through leases.
        bundles=(
            (
                "kwok-stages.yaml",
                (
                    "kustomize/stage/node/fast/*.yaml",
                    "kustomize/stage/node/heartbeat-with-lease/*.yaml",
                    "kustomize/stage/pod/fast/*.yaml",
                ),
            ),
        ),
    )


def skaffold_recipe(version: str, schema: str) -> Recipe:
    """skaffold, for checking skaffold.yaml, with the JSON schema of the config version in use."""
    return Recipe(
        name="skaffold",
        module=SKAFFOLD_MODULE,
        version=version,
        packages=(f"{SKAFFOLD_MODULE}/cmd/skaffold",),
        ldflags=f"-s -w -X {SKAFFOLD_MODULE}/pkg/skaffold/version.version={version}",
        # skaffold pins several dependencies below what its other dependencies ask for.
        copy_module_replacements=True,
        bundles=((f"skaffold-{schema}.json", (f"docs-v2/content/en/schemas/{schema}.json",)),),
    )


def build(recipe: Recipe, destination: Path) -> list[Path]:
    """Build every package of the recipe into `destination` and return the binaries' paths.

    The destination is filled atomically: a failed build leaves nothing behind, so a cache
    folder either holds a complete build or does not exist.
    """
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "the Go toolchain (go) is not on PATH; it is needed to build " + recipe.name
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix=f"{recipe.name}-wrapper-") as scratch,
        tempfile.TemporaryDirectory(prefix=f".{destination.name}.", dir=destination.parent) as out,
    ):
        workdir, staging = Path(scratch), Path(out) / "bin"
        staging.mkdir()
        env = _go_env()
        started = time.monotonic()
        _progress(f"building {recipe.describe()} (a cold build takes several minutes)")
        source = _write_wrapper(go, recipe, workdir, env)
        for name, patterns in recipe.bundles:
            _write_bundle(staging / name, source, patterns)
        _progress(f"compiling {', '.join(_short(package) for package in recipe.packages)}")
        _run(
            [
                go,
                "build",
                "-trimpath",
                "-ldflags",
                recipe.ldflags,
                "-o",
                f"{staging}/",
                *recipe.packages,
            ],
            recipe,
            workdir,
            env,
        )
        if recipe.wrapper_main is not None:
            (staging / "wrapper").rename(staging / recipe.name)
        if not destination.exists():
            staging.rename(destination)
        _progress(f"built {recipe.describe()} in {time.monotonic() - started:.0f}s")
    return sorted(destination.iterdir())


def _write_wrapper(go: str, recipe: Recipe, workdir: Path, env: dict[str, str]) -> Path:
    """Write go.mod (and main.go when needed), resolve the wrapper's dependencies, and return
    the folder holding the main module's source."""
    source = _download(go, recipe, workdir, env)
    main_gomod = (source / "go.mod").read_text()
    replaces = [
        f"replace {module} => {module} {_sibling_version(recipe, module)}"
        for module in local_replacements(main_gomod)
    ]
    if recipe.copy_module_replacements:
        replaces += [f"replace {line}" for line in module_replacements(main_gomod)]
    lines = ["module wrapper", "", f"go {_go_directive(main_gomod)}", "", *replaces, ""]
    (workdir / "go.mod").write_text("\n".join(lines))
    if recipe.wrapper_main is not None:
        (workdir / "main.go").write_text(recipe.wrapper_main)
        _run([go, "get", f"{recipe.module}@{recipe.version}"], recipe, workdir, env)
        _run([go, "mod", "tidy"], recipe, workdir, env)
    else:
        tools = [f"{package}@{recipe.version}" for package in recipe.packages]
        _run([go, "get", "-tool", *tools], recipe, workdir, env)
    return source


def _write_bundle(target: Path, source: Path, patterns: Sequence[str]) -> None:
    """Concatenate the YAML documents matched by `patterns` into one multi-document file."""
    documents = [
        path.read_text().strip()
        for pattern in patterns
        for path in sorted(source.glob(pattern))
        if not path.name.startswith("kustomization")
    ]
    if not documents:
        raise BuildError(f"{source.name} holds no file matching {', '.join(patterns)}")
    target.write_text("\n---\n".join(documents) + "\n")


def local_replacements(gomod: str) -> list[str]:
    """The modules that a go.mod replaces with a path inside its own source tree."""
    modules = []
    for line in _replace_lines(gomod):
        left, _, right = line.partition("=>")
        target = right.split()
        if target and target[0].startswith(("./", "../")) and "FORBIDDEN" not in target[0]:
            modules.append(left.split()[0])
    return modules


def module_replacements(gomod: str) -> list[str]:
    """The replace directives of a go.mod that point at another module version, verbatim."""
    return [line for line in _replace_lines(gomod) if len(line.partition("=>")[2].split()) == 2]


def _replace_lines(gomod: str) -> list[str]:
    lines: list[str] = []
    for block in _REPLACE_BLOCK.finditer(gomod):
        lines += block.group("body").strip().splitlines()
    lines += [match.group("line") for match in _REPLACE_LINE.finditer(gomod)]
    return [line.split("//")[0].strip() for line in lines if "=>" in line.split("//")[0]]


def _sibling_version(recipe: Recipe, module: str) -> str:
    """The published version of a sub-module released together with the main module.

    Kubernetes publishes its staging modules as v0.MINOR.PATCH beside v1.MINOR.PATCH; etcd
    publishes its sub-modules at the same version as the server.
    """
    if recipe.module == KUBERNETES_MODULE and module.startswith("k8s.io/"):
        return "v0." + recipe.version.lstrip("v").split(".", 1)[1]
    return recipe.version


def _download(go: str, recipe: Recipe, workdir: Path, env: dict[str, str]) -> Path:
    result = _run(
        [go, "mod", "download", "-json", f"{recipe.module}@{recipe.version}"], recipe, workdir, env
    )
    info = json.loads(result)
    if "Error" in info:
        raise BuildError(f"{recipe.describe()}: {info['Error']}")
    return Path(info["Dir"])


def _go_directive(gomod: str) -> str:
    match = re.search(r"^go (\S+)$", gomod, re.MULTILINE)
    return match.group(1) if match else "1.24"


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"CGO_ENABLED": "0", "GOWORK": "off", "GOFLAGS": "-buildvcs=false -mod=mod"})
    return env


def _run(command: Sequence[str], recipe: Recipe, workdir: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise BuildError(
            f"building {recipe.describe()} failed: `{' '.join(command[:3])} ...` "
            f"exited {result.returncode}:\n{output}"
        )
    return result.stdout


def _short(package: str) -> str:
    return package.rsplit("/", 1)[-1] if package != "." else "main"


def _progress(message: str) -> None:
    print(f"localcluster: {message}", file=sys.stderr, flush=True)
