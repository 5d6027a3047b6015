"""The package layers (README "Layout"): ``jaxcore`` imports nothing above it, ``reference``
imports no ``solvers``, and no import cycle exists -- counting imports inside functions and
``importlib.import_module("literal")``, not only those at module top."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jaxcore", "solvers", "reference", "benchmarks")


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            parts = p.relative_to(ROOT).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return mods


def _imports(path: Path, known) -> set[str]:
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(n, ast.Import):
            names = [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            names = [n.module] + [f"{n.module}.{a.name}" for a in n.names]
        elif (isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", None)) == "import_module"
              and n.args and isinstance(n.args[0], ast.Constant)):
            names = [n.args[0].value]
        out.update(x for x in names if x in known)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(p, mods) - {m} for m, p in mods.items()}


def test_lower_layers_import_nothing_above():
    g = _graph()
    for m, deps in g.items():
        if m.startswith("jaxcore"):
            assert not [d for d in deps if not d.startswith("jaxcore")], (m, deps)
        if m.startswith("reference"):
            assert not [d for d in deps if d.startswith(("solvers", "benchmarks"))], (m, deps)


def test_no_import_cycle():
    g = _graph()
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    assert cycles == []
    assert len(g) > 100  # the walk saw the packages (not vacuous)
