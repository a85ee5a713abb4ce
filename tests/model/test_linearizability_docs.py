"""docs/linearizability.md: every example followed by its output prints exactly that output."""

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "linearizability.md"
BLOCK = r"((?:(?!```).)*?)"  # a fenced block's body: no fence inside
EXAMPLES = re.findall(rf"```python\n{BLOCK}```\n\n```text\n{BLOCK}```", DOC.read_text(), re.S)


def test_the_page_has_examples_with_output():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("code, output", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_example_prints_what_the_page_shows(code, output):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(DOC), "exec"), {"__name__": "docs_example"})
    assert printed.getvalue() == output
