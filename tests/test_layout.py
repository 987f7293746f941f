"""The house's rules, read from the source: no import cycle among our modules, and the data
contract's helpers (kept outcomes, the memory-address check, the exception type) defined once, in
``schema.py``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "case2code_hub"


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> our modules it imports, counting imports inside functions (they run too) and
    leaving out ``if TYPE_CHECKING:`` blocks (they never run)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
                   for n in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
                target = ".".join(base + [node.module]) if node.module else ".".join(base)
                # ``from pkg import sub`` imports the submodule; ``from pkg import name`` runs pkg.
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_our_modules():
    graph = import_graph()
    assert "case2code_hub.pipeline" in graph and graph["case2code_hub.pipeline"]  # the graph is read at all
    assert cycles(graph) == []


# Forms the contract's helpers used to be repeated in, each with its own semantics.
_CONTRACT_FORMS = {
    "kept outcomes": re.compile(r"""\(\s*["']returned["']\s*,\s*["']raised["']\s*\)"""),
    "address check": re.compile(r"""at 0x(?:\[0-9|["'])"""),
    "exception type": re.compile(r"""\.split\(\s*["']:["']\s*,\s*1\s*\)\[0\]"""),
}


def test_the_contract_helpers_live_in_schema_only():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "schema.py" and path.parent == PACKAGE:
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(PACKAGE)}: {what}" for what, form in _CONTRACT_FORMS.items() if form.search(text)]
    assert offenders == []
    schema_text = (PACKAGE / "schema.py").read_text(encoding="utf-8")
    assert all(form.search(schema_text) for what, form in _CONTRACT_FORMS.items() if what != "exception type")


def test_no_two_modules_or_classes_share_a_name():
    """A name says one thing: no two modules of the package (``__init__`` aside) and no two
    top-level classes share a name, so a traceback or an import names one place."""
    from collections import defaultdict

    modules, classes = defaultdict(list), defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        if path.name not in ("__init__.py", "__main__.py"):
            modules[path.stem].append(where)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                classes[node.name].append(where)
    assert len(modules) > 50 and len(classes) > 50  # the tree was read
    assert {name: places for name, places in modules.items() if len(places) > 1} == {}
    assert {name: places for name, places in classes.items() if len(places) > 1} == {}


def test_the_readme_module_table_names_every_part_of_the_package():
    """The README's module table is the house plan: every module and folder of the package is in it."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `case2code_hub/"))
    parts = [p.name for p in PACKAGE.iterdir() if not p.name.startswith("__") and p.name != "py.typed"]
    assert len(parts) > 15
    missing = [name for name in parts if f"case2code_hub/{name}" not in table and f"`{name}`" not in table]
    assert missing == []
