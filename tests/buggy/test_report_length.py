"""A shrunk report of a classic bug fits in 50 lines (issue 3), as the command line prints it."""

import pytest

from model.cli import check as checking
from model.cli import report
from model.cli.target import load as load_target
from tests.buggy.test_catalogue import BUGGY, load


@pytest.mark.slow
@pytest.mark.parametrize("name", BUGGY)
def test_the_command_line_report_of_each_catalogue_bug_fits_in_50_lines(name):
    module = load(name)
    sizes = {"producers": 2, "consumers": 2, "items": 2, "capacity": 1,
             **getattr(module, "SCENARIO", {})}
    scenario = checking.Scenario(**sizes, granularity=getattr(module, "GRANULARITY", "sync"))
    outcome = checking.run(load_target(f"tests/buggy/{name}.py:Buffer"), scenario,
                           checking.Search())
    text = report.text(outcome)
    assert outcome.verdict == "fail", text
    assert len(text.splitlines()) <= 50, text
