"""Deriving a wrapper module's replace lines from a main module's published go.mod."""

from __future__ import annotations

from localcluster.gobuild import kubernetes_recipe, local_replacements, module_replacements

GOMOD = """\
module example.com/main

go 1.26.0

require example.com/other v1.0.0

replace (
\texample.com/main/api => ./staging/api
\texample.com/main/client => ../client // a comment
\texample.com/forbidden => ./FORBIDDEN_DEPENDENCY
)

// pinned below what others ask for
replace example.com/held => example.com/held v0.3.0

replace example.com/fork => example.com/fork-of-it v1.2.3 // why
"""


def test_modules_replaced_by_paths_inside_the_tree_are_found() -> None:
    assert local_replacements(GOMOD) == ["example.com/main/api", "example.com/main/client"]


def test_replacements_by_other_module_versions_are_kept_verbatim() -> None:
    assert module_replacements(GOMOD) == [
        "example.com/held => example.com/held v0.3.0",
        "example.com/fork => example.com/fork-of-it v1.2.3",
    ]


def test_kubernetes_binaries_are_stamped_with_their_real_version() -> None:
    recipe = kubernetes_recipe("v1.36.3")

    assert "k8s.io/component-base/version.gitVersion=v1.36.3" in recipe.ldflags
    assert "k8s.io/component-base/version.gitMinor=36" in recipe.ldflags
    assert recipe.packages[-1] == "k8s.io/kubernetes/cmd/kubectl"
