"""The Python examples of docs/broker.md and the README's broker section run as shown."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def python_blocks(path, section=None):
    text = (ROOT / path).read_text()
    if section is not None:
        start = text.index(section)
        following = text.find("\n## ", start + len(section))
        text = text[start : following if following != -1 else None]
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize(
    "path, section", [("docs/broker.md", None), ("README.md", "## Using the broker")]
)
def test_the_examples_run(path, section, capsys):
    blocks = python_blocks(path, section)
    assert blocks
    for block in blocks:
        exec(compile(block, path, "exec"), {})
    if path == "README.md":
        assert capsys.readouterr().out.splitlines()[:2] == ["{'order': 1}", "1"]
