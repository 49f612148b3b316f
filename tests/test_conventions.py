"""Conventions of the tests themselves: helpers shared between tests live in tests/support (fixtures among
them registered in tests/conftest.py with pytest_plugins); no module here imports a test module or a
conftest."""
import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_modules(tree, package):
    """The modules a module's import statements take something from, wherever they stand (inside a function
    too); ``from tests import conftest`` takes tests.conftest."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            if base == "tests":
                yield from (f"tests.{alias.name}" for alias in node.names)
            else:
                yield base


def allowed(module):
    return module.split(".")[0] != "tests" or module == "tests.support" or module.startswith("tests.support.")


def test_no_module_imports_a_test_module_or_a_conftest():
    offences = []
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS.parent)
        package = ".".join(relative.parent.parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offences += [f"{relative}: {module}" for module in imported_modules(tree, package) if not allowed(module)]
    assert offences == [], "import shared helpers from tests.support instead:\n" + "\n".join(offences)
