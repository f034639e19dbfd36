"""No layer imports upward: read from the modules' import statements (``ast``), every one
of them, including imports inside functions and under ``TYPE_CHECKING``.

* ``willump_mlir.abi`` is a leaf: it imports nothing from willump_mlir.
* ``frontend/`` imports nothing from ``passes/`` nor from the API layer.
* ``runtime/`` imports nothing from ``passes/`` nor from the API layer.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import willump_mlir

PACKAGE = Path(willump_mlir.__file__).parent

#: The modules users call (``wm.compile``, ``wm.optimize``, ``compiled.explain()``, the CLI).
API = ("willump_mlir", "willump_mlir.api", "willump_mlir.optimizer", "willump_mlir.explain",
       "willump_mlir.cli", "willump_mlir.demo", "willump_mlir.persist",
       "willump_mlir.pipelines")  # fmt: skip
PASSES = ("willump_mlir.passes",)

def modules(package: str) -> list[str]:
    """The dotted names of the modules of ``package`` (one level: they are flat)."""
    directory = PACKAGE / package.removeprefix("willump_mlir.")
    return sorted(f"{package}.{p.stem}" if p.stem != "__init__" else package
                  for p in directory.glob("*.py"))  # fmt: skip


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module, not a submodule
        return False


def imported(module: str) -> set[str]:
    """Every module ``module`` imports: ``a.b`` for ``from a import b`` of a submodule ``b``,
    else ``a``; relative imports resolved."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(), spec.origin)
    package = module if spec.origin.endswith("__init__.py") else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.add(name if is_module(name) else base)
    return found


def reaches(name: str, forbidden: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``forbidden`` or inside one of them (the package root
    ``willump_mlir`` counts only as itself: its API names)."""
    return any(name == f or (f != "willump_mlir" and name.startswith(f + ".")) for f in forbidden)


def violations(package: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    """The (module, import) pairs of ``package`` that reach into ``forbidden``."""
    return [
        (module, name)
        for module in modules(package)
        for name in sorted(imported(module))
        if reaches(name, forbidden)
    ]


def test_abi_is_a_leaf() -> None:
    assert not [n for n in imported("willump_mlir.abi") if n.startswith("willump_mlir")]


@pytest.mark.parametrize("package", ["willump_mlir.frontend", "willump_mlir.runtime"])
def test_no_upward_imports(package: str) -> None:
    assert violations(package, PASSES + API) == []
