"""pytest integration: ``@model.interleavings`` and ``--model-replay TOKEN``.

    import model

    @model.interleavings(max_schedules=2000, seed=1)
    def test_two_increments_under_a_lock():
        counter = Counter()
        threads = [threading.Thread(target=counter.increment) for _ in range(2)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert counter.value == 2

The test body runs as the checker's main thread once per schedule (so it must
build its state afresh each time and take no fixtures).  A failure is an
ordinary pytest failure whose message is the checker's report: the property,
the shrunk interleaving, and how to replay it::

    pytest tests/test_counter.py::test_two_increments_under_a_lock --model-replay 'mq1:...'

With ``--model-replay`` (or the environment variable ``MODEL_REPLAY``), the
decorated test that recorded the token replays exactly that schedule instead
of exploring; other decorated tests are skipped.

The plugin is loaded with ``-p model.pytest_plugin`` (or registered as a
``pytest11`` entry point); the decorator itself works without it, reading the
token from ``MODEL_REPLAY`` only.
"""

from __future__ import annotations

import functools
import inspect
import os

_replay_token: str | None = None
_loaded = False  # the plugin's hooks ran (so --model-replay exists)


def pytest_addoption(parser):
    group = parser.getgroup("model", "deterministic interleaving checker (package model)")
    group.addoption(
        "--model-replay", metavar="TOKEN", default=None,
        help="make the @model.interleavings test that recorded TOKEN replay it "
             "instead of exploring (other such tests are skipped)",
    )


def pytest_configure(config):
    global _replay_token, _loaded
    _replay_token = config.getoption("--model-replay", default=None)
    _loaded = True


def pytest_unconfigure(config):
    global _replay_token, _loaded
    _replay_token = None
    _loaded = False


def interleavings(fn=None, *, strategy="random", max_schedules=1000, seed=0, **options):
    """Decorator: run the test body under ``model.check`` with these options.

    Takes the same keyword arguments as ``model.check``.  Usable bare
    (``@model.interleavings``) or called (``@model.interleavings(seed=3)``).
    """
    if fn is not None:
        if not callable(fn):
            raise TypeError("@model.interleavings takes keyword arguments only, e.g. "
                            "@model.interleavings(max_schedules=500)")
        return interleavings(strategy=strategy, max_schedules=max_schedules, seed=seed,
                             **options)(fn)

    def decorate(body):
        if inspect.signature(body).parameters:
            raise TypeError(
                f"{body.__qualname__} takes arguments, but a @model.interleavings test "
                "is run as the checker's main thread and gets no fixtures; build what "
                "it needs inside the test"
            )

        @functools.wraps(body)
        def test():
            return _run(body, strategy=strategy, max_schedules=max_schedules, seed=seed,
                        options=options)

        test.__signature__ = inspect.Signature()
        test.model_options = dict(strategy=strategy, max_schedules=max_schedules, seed=seed,
                                  **options)
        return test

    return decorate


def _run(body, *, strategy, max_schedules, seed, options):
    import model
    from model.checker import _body_id
    from model.trace import decode_token

    token = _replay_token or os.environ.get("MODEL_REPLAY")
    if token:
        if decode_token(token).body != _body_id(body):
            _skip("the --model-replay token was recorded by another test")
            return
        result = model.replay(body, token, **options)
    else:
        result = model.check(body, strategy=strategy, max_schedules=max_schedules, seed=seed,
                             **options)
    if result.failed:
        _fail(result)


def _skip(reason):
    try:
        import pytest
    except ImportError:  # pragma: no cover
        return
    pytest.skip(reason)


def _fail(result):
    text = result.report()
    node = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    if node:
        if _loaded:
            text += f"\nOr: pytest '{node}' --model-replay '{result.token}'"
        else:
            text += f"\nOr: MODEL_REPLAY='{result.token}' pytest '{node}'"
    try:
        import pytest
    except ImportError:  # pragma: no cover
        from model.errors import CheckFailed

        raise CheckFailed(result) from None
    pytest.fail(text, pytrace=False)
