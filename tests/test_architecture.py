"""The package's layering (docs/architecture.md): the engine and the teaching logic know
nothing of the web shell, and the web shell registers each of its callbacks once."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "playground"
CORE = ["config", "params", "surfaces", "optimizers", "schedules", "engine", "tools",
        "lessons", "warmup", "sweeps", "layout", "lesson_catalogue", "formula", "formula_parse", "formula_eval"]
"""The engine and the teaching logic: no Dash, no Plotly."""
ENTRY_POINTS = {"__init__.py", "__main__.py", "cli.py"}
"""The front doors: ``playground.show`` and ``playground serve`` reach into the web shell
when called (a lazy import), never when imported."""


def test_core_imports_neither_dash_nor_plotly():
    """Each core module imported in turn in one fresh interpreter (one JAX start-up, not
    one per module); the first after whose import Dash or Plotly is loaded is named."""
    code = ("import importlib, sys\n"
            f"for module in {CORE!r}:\n"
            "    importlib.import_module('playground.' + module)\n"
            "    found = [m for m in ('dash', 'plotly') if m in sys.modules]\n"
            "    if found:\n"
            "        sys.exit(f'playground.{module} imported {found}')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr or out.stdout


def _web_imports(source: str, package: tuple[str, ...]) -> list[str]:
    """The imports of playground.web (absolute or relative) in the source of a module of
    ``package`` (e.g. ``("playground", "tools")``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] + [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        found += [n for n in names if n == "playground.web" or n.startswith("playground.web.")]
    return found


def test_nothing_outside_the_web_shell_imports_it():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "web" or (len(rel.parts) == 1 and rel.name in ENTRY_POINTS):
            continue
        package = path.relative_to(ROOT).parts[:-1]
        if found := _web_imports(path.read_text(encoding="utf-8"), package):
            offenders[str(rel)] = found
    assert offenders == {}


@pytest.mark.parametrize("source, package, imports_web", [
    ("from .web import page", ("playground",), True),
    ("from . import web", ("playground",), True),
    ("import playground.web.server", ("playground",), True),
    ("from playground.web.form import FIELDS", ("playground", "tools"), True),
    ("from ..web import state", ("playground", "tools"), True),
    ("from .web import x", ("playground", "tools"), False),  # playground.tools.web
    ("from .config import resolve", ("playground",), False),
    ("from playground import engine", ("playground",), False),
])
def test_the_check_sees_relative_and_absolute_imports(source, package, imports_web):
    assert bool(_web_imports(source, package)) == imports_web


def test_every_callback_is_registered_once():
    """Importing the server registers every callback written in the web shell's modules,
    each once (as many as the source declares, no two with the same output)."""
    declared = 0
    for path in sorted((PACKAGE / "web").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None)
            name = getattr(name, "id", None) or getattr(name, "attr", None)
            if isinstance(node, ast.Call) and name in ("callback", "clientside_callback"):
                declared += 1
    code = ("import dash, playground.web.server as s\n"
            "with s.app.server.test_request_context('/'):\n"
            "    s.app._setup_server()\n"
            "print(len(s.app._callback_list), len(s.app.callback_map))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    registered, distinct = map(int, out.stdout.split())
    assert declared > 0 and registered == distinct == declared


def test_every_name_the_benchmarks_and_tests_import_from_the_package_exists():
    """bench/ and tests/ reach into the package's modules (often inside a function, run only
    by one section of a benchmark): every name they import from ``playground`` must still
    be there after a rename."""
    import importlib

    missing = []
    for path in sorted([*(ROOT / "bench").glob("*.py"), *(ROOT / "tests").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                    node.module == "playground" or node.module.startswith("playground.")):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.name}:{node.lineno} "
                                           f"{node.module}.{alias.name}")
    assert not missing, missing
