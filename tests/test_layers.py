"""The packages' layers, read from the source with ``ast``: imports flow one way and the runtime needs no Keras."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Each top-level package and the project packages it may import: the ground floor, detection, the two stages,
#: then the pipeline, the front door.
ALLOWED = {
    "facexpr": set(),
    "detection": {"facexpr"},
    "keypoints": {"facexpr", "detection"},
    "expressions": {"facexpr"},
    "pipeline": {"facexpr", "detection", "keypoints", "expressions"},
}

#: What running the shipped models needs, from the ground floor to the commands that read photos, videos and
#: evaluations: no TensorFlow or Keras at module level (the light install has neither).
RUNTIME_MODULES = [
    *(f"facexpr.{name}" for name in ("errors", "images", "crop", "modelcard", "configs", "networks", "litert")),
    "keypoints.inference",
    "keypoints.evaluate",
    "expressions.inference",
    "expressions.evaluate",
    "expressions.compare",
    "pipeline",
    "pipeline.api",
    "pipeline.batch",
    "pipeline.video",
    "pipeline.benchmark",
    "pipeline.commands",
    "pipeline.cli",
]


def imported_modules(path: Path, module_level_only: bool = False) -> set[str]:
    """The absolute module names that the file at ``path`` imports (anywhere, or only at module level)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def source_file(module: str) -> Path:
    """The file of a project module (a package's ``__init__.py``)."""
    path = ROOT / module.replace(".", "/")
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def package_imports() -> dict[str, dict[str, set[str]]]:
    """For each project package, each project package it imports and the files that do."""
    edges: dict[str, dict[str, set[str]]] = {package: {} for package in ALLOWED}
    for package in ALLOWED:
        for file in sorted((ROOT / package).rglob("*.py")):
            for name in imported_modules(file):
                target = name.split(".")[0]
                if target in ALLOWED and target != package:
                    edges[package].setdefault(target, set()).add(str(file.relative_to(ROOT)))
    return edges


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``graph`` as a list of nodes (first repeated at the end), or ``None``."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_each_package_imports_only_the_layers_below_it() -> None:
    broken = [
        f"{package} imports {target} in {', '.join(sorted(files))}"
        for package, targets in package_imports().items()
        for target, files in targets.items()
        if target not in ALLOWED[package]
    ]
    assert not broken, "\n".join(broken)


def test_no_import_cycle_between_packages() -> None:
    graph = {package: set(targets) for package, targets in package_imports().items()}
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", RUNTIME_MODULES)
def test_runtime_modules_import_no_tensorflow_at_module_level(module: str) -> None:
    """Follows the module-level imports through the project's packages, so a light module cannot pull Keras in."""
    seen: set[str] = set()
    todo = [module]
    heavy: list[str] = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in imported_modules(source_file(name), module_level_only=True):
            top = imported.split(".")[0]
            if top in {"tensorflow", "keras"}:
                heavy.append(f"{name} imports {imported}")
            elif top in ALLOWED:
                todo.append(imported)
    assert not heavy, "\n".join(heavy)


def test_every_module_says_what_it_is_for() -> None:
    missing = [
        str(file.relative_to(ROOT))
        for package in ALLOWED
        for file in sorted((ROOT / package).rglob("*.py"))
        if not ast.get_docstring(ast.parse(file.read_text()))
    ]
    assert not missing, f"modules without a docstring: {missing}"
