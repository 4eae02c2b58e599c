"""UI text written at module level must be translated when shown, not when the module is
imported: the app is imported once at start (gunicorn ``--preload`` and the warm-up), in the
default language, so an eager ``gettext`` there would freeze Chinese into every English page."""

from __future__ import annotations

import ast
from pathlib import Path

import yimatong

EAGER = {"gettext", "pgettext", "ngettext", "npgettext"}


def eager_calls_outside_functions(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in EAGER
    }
    lines: list[int] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return  # runs when called, in the request's language
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    if names:
        visit(tree)
    return lines


def test_no_module_or_class_level_text_is_translated_at_import():
    root = Path(yimatong.__file__).parent
    found = {
        f"{path.relative_to(root)}:{line}"
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        for line in eager_calls_outside_functions(path)
    }
    assert found == set(), "use gettext_lazy for text built at import time"
