"""Imports point inward: domain <- application <- adapters <- entrypoints."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {"domain", "application", "adapters", "entrypoints"}


def imported_top_level_modules(package: str) -> set[str]:
    modules = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_domain_imports_only_standard_library():
    outside = imported_top_level_modules("domain") - set(sys.stdlib_module_names) - {"domain", "__future__"}

    assert outside == set()


def test_application_imports_no_outer_layer_or_library():
    imported = imported_top_level_modules("application")
    allowed = set(sys.stdlib_module_names) | {"domain", "application", "__future__"}

    assert imported - allowed == set()


def test_import_linter_layers_contract():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
