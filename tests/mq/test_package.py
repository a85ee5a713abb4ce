"""The rules the checker relies on: how `mq` imports, and what it exports."""

import ast
import pathlib

import mq

PACKAGE = pathlib.Path(mq.__file__).parent
SOURCES = sorted(PACKAGE.glob("*.py"))


def imports_of(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield "import", alias.name
        elif isinstance(node, ast.ImportFrom):
            yield "from", node.module or ""


def test_mq_takes_threading_and_time_as_modules_never_names_from_them():
    for path in SOURCES:
        for kind, module in imports_of(path):
            assert not (kind == "from" and module in ("threading", "time", "_thread")), (path.name, module)


def test_mq_never_imports_the_checker():
    for path in SOURCES:
        for _, module in imports_of(path):
            assert module.split(".")[0] != "model", path.name


def test_mq_uses_only_the_standard_library():
    allowed_third_party = set()
    for path in SOURCES:
        for _, module in imports_of(path):
            top = module.split(".")[0]
            assert top in ("mq", "__future__") or top in __import__("sys").stdlib_module_names, (path.name, module)
            assert top not in allowed_third_party


def test_mq_uses_only_lock_rlock_condition_event_and_thread_from_threading():
    allowed = {"Lock", "RLock", "Condition", "Event", "Thread"}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "threading":
                assert node.attr in allowed, (path.name, node.attr)


def test_mq_never_sleeps_outside_the_demos_ttl_wait():
    for path in SOURCES:
        text = path.read_text()
        count = text.count("time.sleep(")
        assert count == (1 if path.name == "__main__.py" else 0), path.name


def test_the_public_names_are_exported():
    for name in ["Message", "BoundedQueue", "Broker", "Producer", "Consumer", "MQError", "Full", "Empty",
                 "Closed", "AckError", "UnknownTopic", "TopicExists", "Subscription", "Delivery"]:
        assert name in mq.__all__ and hasattr(mq, name)
    assert sorted(mq.__all__) == mq.__all__
