"""The house rules of the layout (docs/architecture.md), checked from the source with ``ast``.

1. Apps depend one way: an app imports only the apps below it in ``LAYERS``, whether the import
   sits at module level or inside a function; so there is no import cycle between apps. An import
   of another app inside a function is allowed only in ``AppConfig.ready`` (Django loads models
   first) or on a line that says why it must stay there (``# import-here: …``, e.g. a process
   that sets Django up first).
2. No module outside migrations and tests is longer than ``MAX_LINES``.
3. No module is named ``<layer>_<domain>.py`` (``services_dues.py``): a sub-domain is a package.
4. Only the gate (``core/access.py``) reads its rules or compares role names: everyone else asks
   the scope's named questions (``scope.manages(org)``, ``scope.is_org_admin`` …).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Bottom first. An app may import the apps before it, never one after it.
LAYERS = [
    "core",
    "audit",
    "organizations",
    "members",
    "accounts",
    "activities",
    "assessments",
    "notifications",
    "dashboard",
    "demo",
    "config",
]
MAX_LINES = 800
LAYER_NAMES = ("models", "services", "selectors", "views", "forms", "urls", "api", "serializers", "rules", "demo")


def _modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every absolute import, except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(sub) for sub in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def app_edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for app in LAYERS:
        for path in _modules(app):
            for line, module in _imports(path):
                target = module.split(".")[0]
                if target in LAYERS and target != app:
                    edges.setdefault((app, target), []).append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return edges


def test_every_app_is_in_a_layer():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")} | {"config"}
    assert apps == set(LAYERS), f"add new apps to LAYERS (docs/architecture.md): {sorted(apps ^ set(LAYERS))}"


def test_no_app_imports_an_app_above_it():
    rank = {app: i for i, app in enumerate(LAYERS)}
    upward = [
        where
        for (source, target), places in sorted(app_edges().items())
        if rank[target] > rank[source]
        for where in places
    ]
    assert not upward, "imports pointing up the layers:\n" + "\n".join(upward)


def test_no_import_cycle_between_apps():
    graph: dict[str, set[str]] = {}
    for source, target in app_edges():
        graph.setdefault(source, set()).add(target)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for app in LAYERS:
        if app not in state:
            visit(app, [app])
    assert not cycles, "import cycles between apps: " + "; ".join(cycles)


def test_imports_of_other_apps_sit_at_module_level():
    inner = []
    for app in LAYERS:
        for path in _modules(app):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if path.name == "apps.py" and node.name == "ready":
                    continue
                for sub in ast.walk(node):
                    if isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
                        target = sub.module.split(".")[0]
                        if target in LAYERS and target != app and "# import-here:" not in lines[sub.lineno - 1]:
                            inner.append(f"{path.relative_to(ROOT)}:{sub.lineno} imports {sub.module} in {node.name}()")
    assert not inner, "imports of other apps inside functions (move them to the top):\n" + "\n".join(inner)


def test_modules_stay_short():
    long = []
    for app in LAYERS:
        for path in _modules(app):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not long, f"modules over {MAX_LINES} lines (split them into a package):\n" + "\n".join(long)


def test_no_layer_domain_module_names():
    pattern = re.compile(rf"^({'|'.join(LAYER_NAMES)})_\w+\.py$")
    allowed = {"api_router.py", "api_urls.py"}
    bad = [
        str(path.relative_to(ROOT))
        for app in LAYERS
        for path in _modules(app)
        if pattern.match(path.name) and path.name not in allowed and "management" not in path.parts
    ]
    assert not bad, "modules named <layer>_<domain>.py (make the sub-domain a package):\n" + "\n".join(bad)


GATE_INTERNALS = [
    re.compile(r"\.rules\["),
    re.compile(r"\.org_rules\b"),
    re.compile(r"\brule\.reach\b"),
    re.compile(r"\brole\w*\b[^\n#]*(==|!=|\bin\b)[^\n#]*[\"'](org_admin|secretary|auditor|sysadmin|secadmin|member)[\"']"),
    re.compile(r"[\"'](org_admin|secretary|auditor|sysadmin|secadmin)[\"']\s+(not\s+)?in\s+[\w.()]*roles\b"),
]


def test_only_the_gate_reads_its_rules_or_role_names():
    found = []
    for app in LAYERS:
        for path in _modules(app):
            if path == ROOT / "core" / "access.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if any(pattern.search(line) for pattern in GATE_INTERNALS):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "ask the scope's named questions instead:\n" + "\n".join(found)
