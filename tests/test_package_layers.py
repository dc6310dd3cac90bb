"""The package's layers, read from the source (AST, nothing imported): the runtime never imports the research
harness ``monai_jattn.experiments``, and no two modules import each other, directly or round a longer circle.

Every ``import`` counts, also one inside a function: a deferred import still ties the two modules together."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "monai_jattn"
HARNESS = "monai_jattn.experiments"


def _module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a name imported from a package counts as its submodule
    where one of that name exists, else as the package)."""
    files = {_module_name(path, package): path for path in sorted(package.rglob("*.py"))}
    graph = {}
    for module, path in files.items():
        here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's own package, one level up per extra dot
                    base = ".".join(here[: len(here) - node.level + 1] + [base]).strip(".")
                for alias in node.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base)
        graph[module] = {name for name in found if name in files and name != module}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of two or more modules that reach each other through imports (strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                circles.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return circles


def test_the_runtime_never_imports_the_research_harness():
    graph = import_graph()
    assert HARNESS in graph and "monai_jattn.networks" in graph  # the scan sees the package
    offenders = {
        module: sorted(name for name in imports if name == HARNESS or name.startswith(HARNESS + "."))
        for module, imports in graph.items()
        if not (module == HARNESS or module.startswith(HARNESS + "."))
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_package_has_no_import_circle():
    assert import_circles(import_graph()) == []


def test_the_scan_finds_circles_and_harness_imports(tmp_path):
    """The two checks above can fail: a made-up package with a circle through a deferred relative import and a
    runtime module importing the harness."""
    package = tmp_path / "monai_jattn"
    (package / "experiments").mkdir(parents=True)
    for name in ("__init__.py", "experiments/__init__.py", "experiments/report.py"):
        (package / name).write_text("")
    (package / "experiments" / "__main__.py").write_text("from monai_jattn.experiments.runs import run\n")
    (package / "experiments" / "runs.py").write_text("def main():\n    from .__main__ import parse\n")
    (package / "recipe.py").write_text("from monai_jattn import experiments\nfrom .experiments import report\n")
    graph = import_graph(package)
    assert import_circles(graph) == [["monai_jattn.experiments.__main__", "monai_jattn.experiments.runs"]]
    assert graph["monai_jattn.recipe"] == {"monai_jattn.experiments", "monai_jattn.experiments.report"}
