"""@model.interleavings and --model-replay, run through a real pytest in a subprocess."""

import os
import re
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

TESTS = textwrap.dedent('''
    import threading
    import model


    class Counter:
        def __init__(self):
            self.value = 0
            self.lock = threading.Lock()

        def unsafe(self):
            v = self.value
            with self.lock:   # a scheduling point between the read and the write
                pass
            self.value = v + 1

        def safe(self):
            with self.lock:
                self.value += 1


    def run_two(method):
        c = Counter()
        t = threading.Thread(target=getattr(c, method))
        t.start()
        getattr(c, method)()
        t.join()
        return c.value


    @model.interleavings(max_schedules=200, seed=1)
    def test_safe_increments():
        assert run_two("safe") == 2


    @model.interleavings(max_schedules=200, seed=1)
    def test_unsafe_increments():
        assert run_two("unsafe") == 2


    @model.interleavings
    def test_bare_decorator():
        assert run_two("safe") == 2
''')


def run_pytest(tmp_path, *args, env=None):
    path = tmp_path / "test_counter.py"
    path.write_text(TESTS)
    # The plugin arrives through the project's pytest11 entry point.
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", os.devnull,
           str(path), *args]
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.getcwd() + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=full_env,
                          timeout=120)


def test_a_failing_interleaving_is_an_ordinary_test_failure_with_the_report(tmp_path):
    out = run_pytest(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "2 passed, 1 failed" in out.stdout or "1 failed, 2 passed" in out.stdout
    assert "FAILED: assertion" in out.stdout
    assert "Interleaving (" in out.stdout
    assert "--model-replay 'mq1:" in out.stdout
    token = re.search(r"--model-replay '(mq1:[^']+)'", out.stdout).group(1)

    again = run_pytest(tmp_path, "--model-replay", token)
    assert again.returncode == 1
    assert "1 failed, 2 skipped" in again.stdout
    first_trace = out.stdout[out.stdout.index("Interleaving"):out.stdout.index("Replay:")]
    assert first_trace in again.stdout  # the identical trace

    by_env = run_pytest(tmp_path, "-k", "unsafe", env={"MODEL_REPLAY": token})
    assert by_env.returncode == 1 and first_trace in by_env.stdout


def test_a_decorated_test_may_not_take_fixtures():
    import model

    with pytest.raises(TypeError, match="gets no fixtures"):
        @model.interleavings()
        def test_with_fixture(tmp_path):
            pass
