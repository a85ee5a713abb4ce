"""model: a deterministic interleaving checker for Python ``threading`` code.

    import model
    result = model.check(body, strategy="random", seed=0, max_schedules=1000)
    if result.failed:
        print(result.report())          # property, shrunk trace, replay call
    model.replay(body, result.token)    # the same failing run, step for step

See docs/checker.md.
"""

from model.checker import Result, check, replay
from model.errors import (
    CheckerBug, CheckFailed, ModelError, Nondeterminism, TokenError, Unsupported, Violation,
)
from model.trace import Step


def interleavings(fn=None, **options):
    """Decorator: run a test function's body under the checker (see model/pytest_plugin.py)."""
    from model.pytest_plugin import interleavings as _interleavings

    return _interleavings(fn, **options)


def assert_passes(body, **options) -> Result:
    """``check(body, **options)``; raise ``CheckFailed`` (an AssertionError) with the report if it fails."""
    result = check(body, **options)
    if result.failed:
        raise CheckFailed(result)
    return result


__all__ = [
    "check", "replay", "Result", "Step", "Violation", "interleavings", "assert_passes",
    "CheckerBug", "CheckFailed", "ModelError", "Nondeterminism", "TokenError", "Unsupported",
]
