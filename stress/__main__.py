"""``python -m stress``: the stress harness (see docs/stress.md); the work is in stress/harness/."""

import sys

from stress.harness.cli import main

sys.exit(main())
