"""Message: an immutable value with an id, a payload, a priority and an expiry.

A `Message` a caller builds is *unpublished*: ``id``, ``topic``,
``created_at`` and ``expires_at`` are None and ``delivery_count`` is 0.
`Broker.publish` builds the published message itself: it assigns the id
(unique and increasing within the broker), the topic, ``created_at`` from the
broker's clock, ``expires_at = created_at + ttl`` when there is a TTL, and
``delivery_count = 1``: the number of the delivery attempt the message is
waiting for.  A redelivery (after a nack or an ack timeout) hands out a copy
with ``delivery_count`` increased by one; nothing else about a message ever
changes.  One published message object is shared by every group it fans out
to, which is why a redelivery is a copy.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from mq._args import check_positive, check_priority

# Headers of a message published without headers: one shared, read-only empty mapping.
NO_HEADERS: Mapping[str, Any] = types.MappingProxyType({})

_FIELDS = (
    "id",
    "topic",
    "payload",
    "headers",
    "priority",
    "ttl",
    "created_at",
    "expires_at",
    "delivery_count",
)

_set = object.__setattr__


def freeze_headers(headers: object) -> Mapping[str, Any]:
    """A private read-only copy of ``headers`` (a mapping or None)."""
    if headers is None:
        return NO_HEADERS
    if not isinstance(headers, Mapping):
        raise TypeError(f"'headers' must be a mapping or None, got {headers!r}")
    return types.MappingProxyType(dict(headers))


class _Fields:
    # The slots of a message, writable: a message is built as a _Fields and
    # then given its frozen face by ``__class__ = Message`` (one C-level
    # assignment; nine ``object.__setattr__`` calls cost seven times more).
    __slots__ = _FIELDS


class Message(_Fields):
    """An immutable message.

    Fields: ``id`` (int, None until published), ``topic`` (str or None),
    ``payload`` (anything), ``headers`` (read-only mapping), ``priority``
    (number; higher is served first), ``ttl`` (seconds or None),
    ``created_at`` and ``expires_at`` (broker-clock seconds, or None),
    ``delivery_count`` (0 unpublished, 1 on the first delivery, +1 per
    redelivery).
    """

    __slots__ = ()

    id: int | None
    topic: str | None
    payload: Any
    headers: Mapping[str, Any]
    priority: float
    ttl: float | None
    created_at: float | None
    expires_at: float | None
    delivery_count: int

    def __init__(
        self,
        payload: Any,
        *,
        ttl: float | None = None,
        priority: float = 0,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        _set(self, "id", None)
        _set(self, "topic", None)
        _set(self, "payload", payload)
        _set(self, "headers", freeze_headers(headers))
        _set(self, "priority", check_priority(priority))
        _set(self, "ttl", check_positive("ttl", ttl))
        _set(self, "created_at", None)
        _set(self, "expires_at", None)
        _set(self, "delivery_count", 0)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Message is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Message is immutable: cannot delete {name!r}")

    def is_expired(self, now: float) -> bool:
        """True when the message has a TTL and ``now`` (broker-clock seconds) is at or past it."""
        expires_at = self.expires_at
        return expires_at is not None and now >= expires_at

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Message:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.id, self.topic, self.delivery_count))

    def __repr__(self) -> str:
        parts = [f"id={self.id!r}"]
        if self.topic is not None:
            parts.append(f"topic={self.topic!r}")
        parts.append(f"payload={self.payload!r}")
        if self.priority != 0:
            parts.append(f"priority={self.priority!r}")
        if self.ttl is not None:
            parts.append(f"ttl={self.ttl!r}")
        if self.headers:
            parts.append(f"headers={dict(self.headers)!r}")
        parts.append(f"delivery_count={self.delivery_count!r}")
        return f"Message({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        fields = dict(zip(_FIELDS, self._fields()))
        fields["headers"] = dict(self.headers)  # a mappingproxy does not pickle
        return (_restore, (fields,))


def _restore(fields: dict[str, Any]) -> Message:
    # Rebuilds a message field by field (copy and pickle support).
    message = _Fields()
    for name, value in fields.items():
        setattr(message, name, value)
    message.headers = freeze_headers(message.headers)
    message.__class__ = Message
    return message


def published(
    id: int,
    topic: str,
    payload: Any,
    headers: Mapping[str, Any],
    priority: float,
    ttl: float | None,
    now: float,
) -> Message:
    """The message `publish` stores: arguments already checked, ``headers`` already frozen."""
    message = _Fields()
    message.id = id
    message.topic = topic
    message.payload = payload
    message.headers = headers
    message.priority = priority
    message.ttl = ttl
    message.created_at = now
    message.expires_at = None if ttl is None else now + ttl
    message.delivery_count = 1
    message.__class__ = Message
    return message  # type: ignore[return-value]


def redelivery(message: Message) -> Message:
    """A copy of ``message`` with ``delivery_count`` increased by one."""
    copy = _Fields()
    copy.id = message.id
    copy.topic = message.topic
    copy.payload = message.payload
    copy.headers = message.headers
    copy.priority = message.priority
    copy.ttl = message.ttl
    copy.created_at = message.created_at
    copy.expires_at = message.expires_at
    copy.delivery_count = message.delivery_count + 1
    copy.__class__ = Message
    return copy  # type: ignore[return-value]
