"""The checker's proof of power: bounded buffers written against plain threading.

Each module defines ``Buffer`` (the submission contract: ``Buffer(capacity)``,
``put``, ``get``, optionally ``qsize``) and ``EXPECT``: None for a correct
buffer, else the property (or tuple of acceptable properties) the checker
must report. Optional ``SCENARIO`` overrides the standard scenario's sizes and
``GRANULARITY`` is "line" for bugs with no synchronisation operation between
the racing accesses.
"""

import importlib
import pkgutil

CATALOGUE = sorted(
    info.name
    for info in pkgutil.iter_modules(__path__)
    if not info.name.startswith("test_")
)


def load(name):
    return importlib.import_module(f"{__name__}.{name}")
