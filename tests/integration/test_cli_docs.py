"""The command-line output shown in README.md and docs/grading.md is what the commands print.

Every fenced ``console`` block there is ``$ python -m model ...`` followed by
the output; this test runs the command and compares (stdout, then stderr).
Timings (numbers like ``0.4`` in the grade table) are masked.  After a change
to the output, regenerate the blocks with::

    REGENERATE_DOCS=1 python -m pytest tests/integration/test_cli_docs.py
"""

import os
import re
import shlex
import subprocess
import sys

import pytest

from tests.integration.test_cli_check import needs_checker
from tests.integration.test_cli_target import ENV, ROOT

pytestmark = [needs_checker, pytest.mark.slow]

DOCS = ["README.md", "docs/grading.md"]
BLOCK = re.compile(r"(```console\n\$ (?P<command>[^\n]+)\n)(?P<output>.*?)(```)", re.S)
REGENERATE = os.environ.get("REGENERATE_DOCS") == "1"


def shown(command):
    args = shlex.split(command)
    assert args[:3] == ["python", "-m", "model"], command
    done = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, capture_output=True,
                          text=True, env=ENV, timeout=120)
    return done.stdout + done.stderr


def masked(text):
    return re.sub(r"(?<![\w.])\d+\.\d(?![\w.])", "#.#", text)


@pytest.mark.parametrize("doc", DOCS)
def test_shown_output_is_what_the_command_prints(doc):
    path = ROOT / doc
    text = path.read_text()
    blocks = list(BLOCK.finditer(text))
    assert blocks, f"{doc} shows no command output"
    if REGENERATE:
        path.write_text(BLOCK.sub(lambda m: m[1] + shown(m["command"]) + m[4], text))
        return
    for block in blocks:
        assert masked(block["output"]) == masked(shown(block["command"])), block["command"]
