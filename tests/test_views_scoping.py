"""Views fetch tenant-owned rows only through the scoped entry points (DESIGN.md convention 1).

Walks every views module of the project (any ``views.py`` or module under a ``views/`` package)
and fails on a bare ``Model.objects`` / ``Model._default_manager`` of a tenant-owned model: the
manager must be narrowed by ``.for_user(...)`` / ``.for_tenant(...)`` in the same expression, or
handed to ``scope_for_user`` / ``scope_for_tenant``; single objects come from ``get_for_user``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

from accounts.scoping import is_tenant_owned

ROOT = Path(__file__).resolve().parent.parent
APPS = ("s3portal", "audit", "accounts", "storage", "lifecycle")
MANAGERS = {"objects", "_default_manager"}
SCOPING_METHODS = {"for_user", "for_tenant"}
SCOPING_FUNCTIONS = {"scope_for_user", "scope_for_tenant"}


def tenant_owned_model_names() -> set[str]:
    return {m.__name__ for m in apps.get_models() if is_tenant_owned(m)}


def views_modules() -> list[Path]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if path.name == "views.py" or "views" in path.relative_to(ROOT).parts[:-1]:
                found.append(path)
    return sorted(found)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _is_scoped(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Does the expression around `Model.objects` narrow it to a user or tenant?"""
    current = node
    while current in parents:
        parent = parents[current]
        if isinstance(parent, ast.Attribute) and parent.attr in SCOPING_METHODS:
            return True
        if isinstance(parent, ast.Call) and current is not parent.func:
            func = parent.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            return name in SCOPING_FUNCTIONS  # an argument: only a scoping function may take it
        if not isinstance(parent, ast.Attribute | ast.Call | ast.Subscript):
            return False
        current = parent
    return False


def bare_manager_uses(source: str, owned: set[str]) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    parents = _parents(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in MANAGERS
            and isinstance(node.value, ast.Name)
            and node.value.id in owned
            and not _is_scoped(node, parents)
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return sorted(found)


def test_views_never_use_a_bare_manager_of_a_tenant_owned_model() -> None:
    owned = tenant_owned_model_names()
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {use} (use get_for_user / .for_user / .for_tenant)"
        for path in views_modules()
        for line, use in bare_manager_uses(path.read_text(), owned)
    ]
    assert problems == []


def test_the_walk_covers_the_views_and_the_models() -> None:
    names = {str(p.relative_to(ROOT)) for p in views_modules()}
    assert {"accounts/views.py", "storage/files/views.py", "storage/views/buckets.py"} <= names
    assert {"Bucket", "Finding", "AwsAccount", "StoredFile", "AuditEvent"} <= (
        tenant_owned_model_names()
    )


def test_the_rule_itself() -> None:
    owned = {"Bucket", "StoredFile"}
    source = "\n".join(
        [
            "a = Bucket.objects.for_tenant(t).filter(x=1)",  # 1 ok
            "b = Bucket.objects.filter(x=1).for_user(u)",  # 2 ok: narrowed in the expression
            "c = StoredFile.objects.active().for_tenant(t)",  # 3 ok
            "d = scope_for_tenant(Bucket.objects.all(), t)",  # 4 ok
            "e = Bucket.objects.get(pk=pk)",  # 5 bare
            "f = Bucket._default_manager.filter(pk=pk)",  # 6 bare
            "g = list(Bucket.objects.all())",  # 7 bare, handed to something else
            "h = Tenant.objects.all()",  # 8 not a tenant-owned name here
            "i = Bucket.objects",  # 9 bare
        ]
    )
    assert bare_manager_uses(source, owned) == [
        (5, "Bucket.objects"),
        (6, "Bucket._default_manager"),
        (7, "Bucket.objects"),
        (9, "Bucket.objects"),
    ]
