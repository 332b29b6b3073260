"""The package's shape, read from its imports with `ast` (every import, inside functions too):
the CLI on top and imported by nothing, no import circle, and function-local imports only for
heavy or optional modules, each saying so in a comment."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "histodata"
ENTRY_POINTS = {"histodata.__main__"}          # `python -m histodata` runs the CLI
# Imported on first use because importing them costs real time or needs an optional extra.
HEAVY_THIRD_PARTY = {"pandas", "numpy", "PIL", "rich", "pydantic", "requests", "urllib3", "yaml", "h5py",
                     "scipy", "openslide", "tifffile", "shapely", "openpyxl", "torch", "girder_client",
                     "pyarrow", "defusedxml", "filelock", "platformdirs", "pooch", "idc_index_data",
                     "distributed"}
# histodata modules that are heavy in the same way: importing them imports a heavy library.
HEAVY_INTERNAL = {
    "histodata.registry.models": "the pydantic models; the catalog commands read a prebuilt index instead",
    "histodata.pipeline": "the fetch flow and every source kind (requests, girder-client, ...); `load()` and "
                          "`list` need it only to fetch",
}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str, known: dict[str, Path]) -> bool:
    return known[name].name == "__init__.py"


def resolve(node: ast.ImportFrom, importer: str, known: dict[str, Path]) -> list[str]:
    """The histodata modules a `from X import a, b` loads (a submodule per name where it is one)."""
    if node.level:
        base = importer.split(".") if is_package(importer, known) else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("histodata"):
        return []
    found = [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known]
    return found if len(found) == len(node.names) else [target, *found]


def imports_of(name: str, path: Path, known: dict[str, Path]):
    """(target, line, local, comment) for every import statement of a module; `target` is a
    histodata module name or the top-level name of another package."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    local_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name if a.name.startswith("histodata") else a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            internal = node.level or (node.module or "").startswith("histodata")
            targets = resolve(node, name, known) if internal else [(node.module or "").split(".")[0]]
        else:
            continue
        comment = " ".join(lines[import_block_start(lines, node.lineno - 1):node.end_lineno])
        for target in targets:
            yield target, node.lineno, id(node) in local_nodes, comment


def import_block_start(lines: list[str], index: int) -> int:
    """The first line of the run of import lines, comments and blank lines that ends at `index`
    (a comment heading a group of imports speaks for the whole group)."""
    while index > 0:
        above = lines[index - 1].strip()
        if above and not above.startswith(("import ", "from ", "#")):
            break
        index -= 1
    return index


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {t for t, *_ in imports_of(name, path, known) if t in known and t != name}
            for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cli_is_imported_by_nothing_but_the_entry_point():
    offenders = sorted(f"{name} -> {target}" for name, targets in graph().items() for target in targets
                       if target.startswith("histodata.cli") and not name.startswith("histodata.cli")
                       and name not in ENTRY_POINTS)
    assert offenders == []


def test_there_is_no_import_circle():
    assert cycles(graph()) == []


def test_function_local_imports_are_only_for_heavy_modules_and_say_so():
    known = modules()
    offenders = []
    for name, path in known.items():
        for target, line, local, comment in imports_of(name, path, known):
            if not local:
                continue
            allowed = target in HEAVY_THIRD_PARTY or target in HEAVY_INTERNAL
            if not allowed or "heavy" not in comment and "optional" not in comment:
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert offenders == []


def test_no_module_is_over_the_size_limit():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_checker_sees_a_circle_and_a_cli_import():
    """The rules above can fail: a made-up graph with a circle and an upward import is caught."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = {"histodata.x": {"histodata.cli.fetch"}}
    upward = [t for ts in tree.values() for t in ts if t.startswith("histodata.cli")]
    assert upward == ["histodata.cli.fetch"]


@pytest.mark.parametrize("name", sorted(HEAVY_INTERNAL))
def test_heavy_internal_modules_exist(name):
    assert name in modules()


# Where a person's terminal may be written to: the CLI, the output helpers and the progress displays.
TALKERS = {"histodata.cli", "histodata.console", "histodata.progress", "histodata.standardize.base"}


def talks(tree: ast.AST) -> list[int]:
    """Lines that print or touch sys.stdout / sys.stderr."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            lines.append(node.lineno)
        elif (isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr")
              and isinstance(node.value, ast.Name) and node.value.id == "sys"):
            lines.append(node.lineno)
    return lines


def test_the_library_logs_and_only_the_cli_and_progress_displays_talk():
    offenders = [f"{name}:{line}" for name, path in modules().items()
                 if not any(name == t or name.startswith(t + ".") for t in TALKERS)
                 for line in talks(ast.parse(path.read_text()))]
    assert offenders == []
    assert talks(ast.parse("import sys\nprint('x')\nsys.stderr.write('y')")) == [2, 3]


def test_files_are_hashed_and_compared_in_one_place():
    """StreamHasher is the engine's (hashing while bytes stream in); a finished file is checked by
    transfer.hashing.check_file everywhere else."""
    users = sorted(name for name, path in modules().items() if "StreamHasher(" in path.read_text())
    assert users == ["histodata.transfer.engine", "histodata.transfer.hashing"]
