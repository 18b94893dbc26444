"""The bot's packages import each other in one direction only (issue 16, item 4).

The imports are read with `ast`, without importing anything, and every import counts:
one inside a function or under `TYPE_CHECKING` is still a dependency, only a hidden one.

The allowed direction, from the edge of the system inwards:

    channels -> handoff, insights -> leads -> crm -> slack -> advisor

- `bot.channels` (Rasa's input channels) may use everything below it; nothing in `bot`
  but the entry points (`bot.serve`, `bot.cli`, ...) imports it.
- `bot.handoff` and `bot.insights` serve the channels; the handoff never imports the
  leads, and neither imports the other.
- `bot.leads` (the use cases) stores leads and hands them to the outbound adapters.
- `bot.crm` (the CRM adapters and the sales channel's sender) never imports `bot.leads`
  or `bot.channels`.
- `bot.slack` (Block Kit layouts) is shared by every sender of Slack messages.
- `bot.advisor` (the recommendation engine) imports none of the above.

Modules directly in `bot/` (`bot.settings`, `bot.shared_redis`, `bot.buttons`, ...) and
packages not named here are held to the rule without cycles only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

# Higher imports lower, never the reverse; equal ranks do not import each other.
RANKS = {
    "bot.channels": 6,
    "bot.handoff": 5,
    "bot.insights": 5,
    "bot.leads": 4,
    "bot.crm": 3,
    "bot.slack": 2,
    "bot.advisor": 1,
}

Graph = Mapping[str, Mapping[str, list[str]]]


def module_name(path: Path, root: Path = BOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = BOT) -> set[str]:
    """Every `bot.…` name the module imports, absolute or relative."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            # `from bot import leads` imports the package `bot.leads`.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "bot" or name.startswith("bot.")}


def unit_of(module: str) -> str:
    """The sub-package (`bot.leads`) or top-level module (`bot.settings`) it belongs to."""
    return ".".join(module.split(".")[:2])


def package_graph(root: Path = BOT) -> dict[str, dict[str, list[str]]]:
    """unit -> {imported unit: [the modules that import it]}, within `bot`."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        source = module_name(path, root)
        edges = graph.setdefault(unit_of(source), {})
        for target in imported_modules(path, root):
            unit = unit_of(target)
            if unit not in ("bot", unit_of(source)):
                edges.setdefault(unit, []).append(source)
    return graph


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_the_graph_is_read() -> None:
    graph = package_graph()
    # Known edges: an empty graph would pass every other test here.
    assert "bot.leads" in graph["bot.channels"]
    assert "bot.crm" in graph["bot.leads"]
    assert "bot.slack" in graph["bot.crm"]


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": ["b"], "b": ["c"], "c": []}, []),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, [["a", "b", "c"]]),
        ({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": ["a"]},
         [["a", "b"], ["c", "d"]]),
    ],
)
def test_find_cycles(graph: Mapping[str, list[str]], cycles: list[list[str]]) -> None:
    assert find_cycles(graph) == cycles


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    package = tmp_path / "bot" / "leads"
    package.mkdir(parents=True)
    module = package / "services.py"
    module.write_text("from ..crm.base import X\nfrom . import store\n", encoding="utf-8")
    assert imported_modules(module, tmp_path / "bot") >= {"bot.crm.base", "bot.leads.store"}


def test_no_package_cycles() -> None:
    graph = package_graph()
    cycles = find_cycles(graph)
    details = [
        f"{' <-> '.join(cycle)}: "
        + "; ".join(f"{source} imports {target} ({', '.join(sorted(set(graph[source][target])))})"
                    for source in cycle for target in cycle if target in graph[source])
        for cycle in cycles
    ]
    assert not cycles, "package cycles:\n" + "\n".join(details)


def test_imports_go_down_the_layers() -> None:
    wrong = [
        f"{source} imports {target} ({', '.join(sorted(set(modules)))})"
        for source, targets in package_graph().items() if source in RANKS
        for target, modules in targets.items()
        if target in RANKS and RANKS[target] >= RANKS[source]
    ]
    assert not wrong, "imports against the layer direction:\n" + "\n".join(wrong)
