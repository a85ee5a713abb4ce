"""The exhaustive search explores exactly the recorded trees.

tests/data/exhaustive_counts.json was written by
``python -m stress.exhaustive_counts --write`` before any change made only for
speed; each configuration marked fast must still give the same counters and
the same digest of every choice, in the same order.  A difference means a
change altered what the search explores, not just what it costs.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from stress.exhaustive_counts import CONFIGS, measure

RECORDED = json.loads(
    (pathlib.Path(__file__).parent.parent / "data" / "exhaustive_counts.json").read_text()
)
FAST = [name for name, config in CONFIGS.items() if config[-1]]


def test_every_configuration_is_recorded():
    assert sorted(RECORDED) == sorted(CONFIGS)


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST)
def test_the_search_explores_the_recorded_tree(name):
    got = measure(name)
    got.pop("seconds")
    want = dict(RECORDED[name])
    want.pop("seconds")
    assert got == want
