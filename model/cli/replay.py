"""The command line's replay token: target + scenario + options + schedule + the target's hash.

A token is ``mc1-`` followed by the URL-safe base64 of a zlib-compressed JSON
object (sorted keys, so the same failure always gives the same token)::

    {"target": "hw/buf.py:Buffer", "sha": "<16 hex of the target's files>",
     "scenario": {"producers": 2, "consumers": 2, "items": 2, "capacity": 1},
     "options": {"granularity": "sync", ...},   # what model.replay needs
     "schedule": "<model.check's token>",
     "found": {"schedules": 37, "search": "...", "in": "2p2c-cap1-sync"}}

``found`` lets ``replay`` print the very report ``check`` printed.  Every
character of a token is shell-safe, so the printed command can be pasted.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

PREFIX = "mc1-"
_KEYS = {"target", "sha", "scenario", "options", "schedule", "found"}
_SCENARIO = ("producers", "consumers", "items", "capacity")


class TokenError(Exception):
    """The token is malformed or foreign; the message is one line saying why."""


def encode(data: dict[str, Any]) -> str:
    payload = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    packed = base64.urlsafe_b64encode(zlib.compress(payload, 9)).decode().rstrip("=")
    return PREFIX + packed


def decode(token: str) -> dict[str, Any]:
    """Parse a token; raises TokenError when it is not one this command line made."""
    token = token.strip()
    if not token.startswith(PREFIX):
        raise TokenError(
            f"malformed replay token: it must start with {PREFIX!r} "
            "(copy the whole token from the report)"
        )
    body = token[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(zlib.decompress(raw))
    except (binascii.Error, ValueError, zlib.error) as error:
        raise TokenError(
            f"malformed replay token ({type(error).__name__}): it was truncated or altered"
        ) from None
    if not isinstance(data, dict) or not _KEYS <= data.keys():
        raise TokenError("malformed replay token: fields are missing")
    scenario = data["scenario"]
    if not isinstance(scenario, dict) or not all(
        isinstance(scenario.get(key), int) and not isinstance(scenario.get(key), bool)
        and scenario[key] >= 1 for key in _SCENARIO
    ):
        raise TokenError("malformed replay token: the scenario is invalid")
    if not isinstance(data["target"], str) or not isinstance(data["sha"], str):
        raise TokenError("malformed replay token: the target is invalid")
    if not isinstance(data["schedule"], str) or not isinstance(data["options"], dict):
        raise TokenError("malformed replay token: the schedule is invalid")
    options = data["options"]
    steps = options.get("max_steps")
    if options.get("granularity") not in ("sync", "line") or not (
            isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1):
        raise TokenError("malformed replay token: the options are invalid")
    if not isinstance(data["found"], dict):
        raise TokenError("malformed replay token: the search summary is invalid")
    data["token"] = token
    return data


def command(token: str) -> str:
    """The exact command that replays ``token``."""
    return f"python -m model replay {token}"
