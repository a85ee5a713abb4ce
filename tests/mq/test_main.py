import io
import re
import runpy
import sys

import pytest

import mq.__main__ as cli


@pytest.mark.slow
def test_the_demo_runs_every_scenario_and_ends_by_itself(capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    for number in range(1, 6):
        assert f"== {number}. " in out
    assert "billing: 20 of 20 orders" in out and "shipping: 20 of 20 orders" in out
    assert "3 producers published 120 jobs; the consumer processed 120; occupancy never passed" in out
    assert re.search(r"occupancy never passed [1-5] of 5", out)
    assert "a consumer then got 10 (all without TTL: True), expired in all 10" in out
    assert "urgent (priority 9): 10 tasks" in out
    assert "late ack refused" in out
    assert "handler errors 12; dead letters: 7 after 3 deliveries (max_deliveries), 14 after 3" in out
    assert "demo finished in" in out
    assert "interrupted" not in out


def test_ctrl_c_stops_the_demo_with_a_final_stats_line(monkeypatch):
    def interrupted_wait(demo):
        assert demo.started.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_wait", interrupted_wait)
    out = io.StringIO()
    assert cli.run_demo(out) == 130
    text = out.getvalue()
    assert "interrupted" in text
    assert text.splitlines()[-1].startswith("interrupted after")
    assert "final stats: published" in text.splitlines()[-1]


def test_a_stop_before_any_broker_reports_that_none_was_started():
    demo = cli.Demo(io.StringIO())
    demo.stop()
    assert demo.final_line() == "no broker was started"
    demo.run()
    assert "interrupted (Interrupted)" in demo.out.getvalue()
    assert demo.finished.is_set()


def test_an_unexpected_error_in_a_scenario_is_not_hidden(monkeypatch):
    def broken(demo):
        raise MemoryError("not an interruption")

    monkeypatch.setattr(cli, "SCENARIOS", [("broken", broken)])
    demo = cli.Demo(io.StringIO())
    with pytest.raises(MemoryError):
        demo.run()
    assert demo.finished.is_set()


def test_an_mq_error_outside_a_stop_is_not_hidden(monkeypatch):
    def broken(demo):
        demo.broker(reaper_interval=None).publish("missing", 1)

    monkeypatch.setattr(cli, "SCENARIOS", [("broken", broken)])
    demo = cli.Demo(io.StringIO())
    with pytest.raises(Exception, match="no topic named 'missing'"):
        demo.run()


def test_the_command_line_needs_a_command(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main([])
    assert raised.value.code == 2
    assert "demo" in capsys.readouterr().err


def test_python_dash_m_mq_runs_main(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["python -m mq"])
    # run_path, not run_module: pytest's assertion rewriter owns this
    # distribution's modules (the checker's plugin is an entry point of it)
    # and cannot hand runpy their code.
    with pytest.raises(SystemExit) as raised:
        runpy.run_path(cli.__file__, run_name="__main__")
    assert raised.value.code == 2
