"""The specifications are pure: they import neither `mq` nor anything that runs threads or reads a clock.

A spec that imported the broker could agree with it by construction, and one
that touched threads or time would not be the deterministic, single-threaded
model the stateful and linearizability tests rely on.
"""

import ast
import pathlib

import model
import model.specs

MODEL = pathlib.Path(model.__file__).parent
SPECS = sorted(pathlib.Path(model.specs.__file__).parent.glob("*.py"))

# What a sequential model may use: pure data and arithmetic from the standard
# library, and its sibling specs.
ALLOWED_IN_SPECS = {"__future__", "bisect", "collections", "contextlib", "dataclasses", "functools", "heapq",
                    "itertools", "math", "numbers", "operator", "typing", "model.specs"}


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or ""


def _allowed(module):
    return any(module == name or module.startswith(name + ".") for name in ALLOWED_IN_SPECS)


def test_the_specs_are_found():
    assert {path.name for path in SPECS} >= {"__init__.py", "queue.py", "broker.py", "broker_state.py"}


def test_specs_import_only_pure_modules_never_mq_threading_time_or_the_scheduler():
    for path in SPECS:
        for module in imported_modules(path):
            assert _allowed(module), f"{path.name} imports {module}"


def test_no_module_of_the_checker_imports_mq():
    for path in sorted(MODEL.rglob("*.py")):
        for module in imported_modules(path):
            assert module.split(".")[0] != "mq", f"{path.relative_to(MODEL)} imports {module}"


def test_the_purity_rule_rejects_what_it_must(tmp_path):
    impure = tmp_path / "impure.py"
    impure.write_text("import threading\nfrom mq import Broker\nfrom model.scheduler import Scheduler\n"
                      "from collections import deque\n")
    refused = [module for module in imported_modules(impure) if not _allowed(module)]
    assert refused == ["threading", "mq", "model.scheduler"]
