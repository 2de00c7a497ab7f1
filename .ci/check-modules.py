#!/usr/bin/env python3
"""The module graph, written down once and checked against Package.swift and the imports.

Fails (exit 1) when a target
  * declares a dependency on a project module that none of its files imports (dead arrow),
  * imports a project module it does not declare (hidden arrow),
  * depends on a module the graph below does not allow it (an arrow pointing up or sideways),
or when Package.swift has a target this graph does not know.

Arrows point down only: MLWire <- MLModel <- MLServer; MLWire <- MLClient <- MLControl;
executables wire things together. Keep README's code tour in step with ALLOWED.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# target -> the project modules it may depend on (not all of them must be used).
ALLOWED = {
    "CEpoll": set(),
    "CSQLite": set(),
    "MLWire": set(),
    "MLEventCore": {"CEpoll"},
    "MLModel": {"MLWire"},
    "MLImport": {"MLModel", "MLWire"},
    "MLServer": {"MLModel", "MLWire", "MLEventCore", "CEpoll"},
    "MLClient": {"MLWire"},
    "MLDiscovery": {"MLWire"},
    "MLCommandLine": set(),
    "MLTooling": {"MLClient", "MLWire"},
    "MLControl": {"MLClient", "MLDiscovery", "MLTooling", "MLModel", "MLImport", "MLWire", "CSQLite"},
    "mlserve": {"MLServer", "MLModel", "MLWire", "MLCommandLine"},
    "mlctl": {"MLControl", "MLClient", "MLDiscovery", "MLTooling", "MLImport", "MLModel", "MLWire", "MLCommandLine"},
    "mlbench": {"MLClient", "MLTooling", "MLModel", "MLWire", "MLCommandLine", "MLEventCore", "CEpoll"},
}
# Test targets may use anything below the module they test, and the support modules.
TEST_ALLOWED_EXTRA = {"MLClient", "MLTooling", "MLServer", "MLModel", "MLWire", "MLImport", "MLControl",
                      "MLDiscovery", "MLCommandLine", "MLEventCore", "CSQLite", "CEpoll"}


def targets(package: str):
    """(kind, name, dependencies, path) for every target in Package.swift."""
    found = []
    for match in re.finditer(r'\.(target|executableTarget|testTarget|systemLibrary)\((.*?)\)(?=,\s*(?://[^\n]*\n\s*)*\.|\s*,?\s*\])',
                             package, re.S):
        kind, body = match.group(1), match.group(2)
        name = re.search(r'name:\s*"([^"]+)"', body).group(1)
        deps_match = re.search(r'dependencies:\s*\[(.*?)\]', body, re.S)
        deps = set(re.findall(r'"([^"]+)"', deps_match.group(1))) if deps_match else set()
        path_match = re.search(r'path:\s*"([^"]+)"', body)
        default = ("Tests/" if kind == "testTarget" else "Sources/") + name
        found.append((kind, name, deps, path_match.group(1) if path_match else default))
    return found


def imports(directory: pathlib.Path):
    names = set()
    for source in directory.rglob("*.swift"):
        for line in source.read_text(encoding="utf-8").splitlines():
            m = re.match(r'\s*(?:@testable\s+)?(?:@_implementationOnly\s+)?import\s+(?:(?:struct|enum|class|func)\s+)?([A-Za-z_]+)', line)
            if m:
                names.add(m.group(1))
    return names


def main() -> int:
    package = (ROOT / "Package.swift").read_text(encoding="utf-8")
    found = targets(package)
    project = {name for _, name, _, _ in found}
    problems = []
    for kind, name, deps, path in found:
        if kind == "systemLibrary":
            continue
        used = imports(ROOT / path) & project
        for dead in sorted(deps - used):
            problems.append(f"{name}: declares {dead} but no file imports it")
        for hidden in sorted(used - deps - {name}):
            problems.append(f"{name}: imports {hidden} without declaring it in Package.swift")
        if kind == "testTarget":
            bad = deps - TEST_ALLOWED_EXTRA
        elif name not in ALLOWED:
            problems.append(f"{name}: not in the module graph of .ci/check-modules.py; add it there (and to README's code tour)")
            continue
        else:
            bad = deps - ALLOWED[name]
        for arrow in sorted(bad):
            problems.append(f"{name}: may not depend on {arrow} (the graph allows {sorted(ALLOWED.get(name, TEST_ALLOWED_EXTRA))})")
    for line in problems:
        print("module graph:", line)
    print(f"module graph: {len(found)} targets checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
