"""Where the shipped files are, and readers for them shared by the static tests."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
RBAC = REPO / "rbac"
EXAMPLES = REPO / "examples"
DOCKERFILE = REPO / "Dockerfile"

OPERATOR_NAMESPACE = "staticsite-system"
OPERATOR_NAME = "staticsite-operator"


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document in `path`, each of which must be a mapping."""
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    for doc in documents:
        if not isinstance(doc, dict):
            raise TypeError(f"{path.name}: a document is a {type(doc).__name__}, not a mapping")
    return documents


def load_folder(folder: Path) -> list[dict[str, Any]]:
    """The documents of every `*.yaml` file in `folder`, in kubectl's (alphabetical) order."""
    return [doc for path in sorted(folder.glob("*.yaml")) for doc in load_documents(path)]


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one document of `kind` called `name`; fails with the names that do exist."""
    matches = [d for d in documents if d.get("kind") == kind and d["metadata"]["name"] == name]
    if len(matches) != 1:
        present = sorted(f"{d.get('kind')}/{d['metadata']['name']}" for d in documents)
        raise LookupError(f"expected one {kind}/{name}, found {len(matches)} among {present}")
    return matches[0]


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, with continuation lines joined and comments dropped."""

    keyword: str
    arguments: str
    stage: int  # index of the FROM that the instruction belongs to; -1 before the first FROM

    def exec_form(self) -> list[str]:
        """The arguments of an exec-form instruction (a JSON list of strings)."""
        value = json.loads(self.arguments)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{self.keyword} is not in exec form: {self.arguments}")
        return value

    def shell_commands(self) -> list[list[str]]:
        """A shell-form RUN split into its `&&`-chained commands, each split into words."""
        return [shlex.split(part) for part in self.arguments.split("&&")]


def parse_dockerfile(path: Path = DOCKERFILE) -> list[Instruction]:
    """The instructions of a Dockerfile (no parser directives, no heredocs)."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        pending = ""
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, " ".join(arguments.split()), stage))
    return instructions
