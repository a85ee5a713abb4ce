"""docs/checker.md: the example runs and prints exactly the output shown."""

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "checker.md"


def blocks(kind):
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), re.S)


def test_the_first_example_prints_the_report_shown(tmp_path):
    code = blocks("python")[0]
    shown = blocks("text")[0]
    (tmp_path / "example.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": str(DOC.parents[1])}
    out = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == shown


def test_the_doc_keeps_the_section_for_exhaustive_exploration():
    assert "\n## Exhaustive exploration\n" in DOC.read_text()
