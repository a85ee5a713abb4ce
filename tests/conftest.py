"""Suite-wide settings: Hypothesis profiles, and no hang timeout for stress runs.

HYPOTHESIS_PROFILE=thorough selects many more examples, for nightly runs.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(items):
    # Stress runs last as long as --stress-duration says (hours overnight) and
    # have their own stall watchdog: the suite's hang timeout is not for them.
    for item in items:
        if item.get_closest_marker("stress") is not None:
            item.add_marker(pytest.mark.timeout(0))
