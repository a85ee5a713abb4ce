"""``python -m model check | grade | replay``: see model/cli/__init__.py and docs/grading.md."""

import sys

from model.cli import main
from model.cli.guard import exit_now

if __name__ == "__main__":
    exit_now(main())
