"""The import graph matches the layering: audit <- accounts <- storage <- lifecycle.

storage.files uses accounts and audit only; s3portal (the project package) wires them and no
app imports it. Every import counts, at module level or inside a function, relative or absolute.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("s3portal", "audit", "accounts", "storage", "lifecycle")

# package -> top-level project packages (or "storage.files") it must not import
FORBIDDEN: dict[str, set[str]] = {
    "audit": {"accounts", "storage", "lifecycle", "s3portal"},
    "accounts": {"storage", "lifecycle", "s3portal"},
    "storage.files": {"storage", "lifecycle", "s3portal"},  # storage.files itself is allowed
    "storage": {"lifecycle", "s3portal"},
    "lifecycle": {"s3portal"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file."""
    return _imports_in(path.read_text(), _module_name(path), is_package=path.name == "__init__.py")


def _imports_in(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            # `from storage import files` imports storage.files
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _layer_of(module: str) -> str | None:
    if module == "storage.files" or module.startswith("storage.files."):
        return "storage.files"
    top = module.split(".")[0]
    return top if top in APPS else None


def _violates(importer_layer: str, imported: str) -> bool:
    imported_layer = _layer_of(imported)
    if imported_layer is None:
        return False
    if importer_layer == "storage.files":
        return imported_layer in {"storage", "lifecycle", "s3portal"}
    return imported_layer.split(".")[0] in FORBIDDEN[importer_layer]


def _project_files() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py"))


def violations() -> list[str]:
    found = []
    for path in _project_files():
        layer = _layer_of(_module_name(path))
        if layer not in FORBIDDEN:
            continue  # s3portal wires the apps: it may import any of them
        for line, imported in _imports(path):
            if _violates(layer, imported):
                found.append(f"{path.relative_to(ROOT)}:{line} ({layer}) imports {imported}")
    return found


def test_imports_point_one_way() -> None:
    assert violations() == []


def test_the_walk_sees_the_files_it_must_check() -> None:
    modules = {_module_name(p) for p in _project_files()}
    assert {"audit.trail", "accounts.access", "storage.files.services", "storage.tasks"} <= modules


@pytest.mark.parametrize(
    ("importer", "imported", "bad"),
    [
        ("audit", "accounts.models.Tenant", True),
        ("audit", "s3portal.middleware.current_request", True),
        ("accounts", "audit.record", False),
        ("accounts", "storage.models.Bucket", True),
        ("storage.files", "accounts.aws", False),
        ("storage.files", "audit.record", False),
        ("storage.files", "storage.files.models.StoredFile", False),
        ("storage.files", "storage.models.Bucket", True),
        ("storage.files", "storage.scan.verdict", True),
        ("storage", "storage.files.models.StoredFile", False),
        ("storage", "lifecycle.models", True),
        ("lifecycle", "storage.models.Bucket", False),
        ("lifecycle", "s3portal.settings", True),
    ],
)
def test_the_rule_itself(importer: str, imported: str, bad: bool) -> None:
    assert _violates(importer, imported) is bad


def test_relative_and_function_level_imports_are_seen() -> None:
    source = (
        "from ..models import Bucket\n"
        "from . import services\n"
        "def f():\n"
        "    from storage.scan import verdict\n"
    )
    assert _imports_in(source, "storage.files.views", is_package=False) == [
        (1, "storage.models.Bucket"),
        (2, "storage.files.services"),
        (4, "storage.scan.verdict"),
    ]
    assert _imports_in("from .models import X\n", "storage.files", is_package=True) == [
        (1, "storage.files.models.X")
    ]


def _module_graph(prefix: str) -> dict[str, set[str]]:
    """module -> project modules it imports (any import, function-level ones included)."""
    paths = {_module_name(p): p for p in _project_files()}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        if not module.startswith(prefix) or ".migrations." in module:
            continue
        targets = set()
        for _, imported in _imports(path):
            # "from . import s3" names storage.files.s3; "from .models import X" names a member
            name = imported if imported in paths else imported.rpartition(".")[0]
            if name in paths and name != module and name.startswith(prefix):
                targets.add(name)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_files_modules_import_each_other_without_cycles() -> None:
    graph = _module_graph("storage.files.")
    assert {"storage.files.services", "storage.files.jobs", "storage.files.tasks"} <= set(graph)
    assert "storage.files.jobs" in graph["storage.files.tasks"]
    assert _cycles(graph) == []


def test_cycle_finder() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
