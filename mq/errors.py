"""The errors of `mq`: one hierarchy under `MQError`.

Each message says what happened, with the values, then the likely cause.
"""

from __future__ import annotations


class MQError(Exception):
    """Base class of every error `mq` raises on purpose."""


class Full(MQError):
    """A put or publish could not make room before its timeout.

    ``accepted`` counts the leading items a batch operation (`put_many`)
    inserted before it gave up; 0 for single-item operations.
    """

    def __init__(self, message: str = "full", *, accepted: int = 0) -> None:
        super().__init__(message)
        self.accepted = accepted


class Empty(MQError):
    """A get found nothing before its timeout."""


class Closed(MQError):
    """The queue, subscription or broker is closed.

    ``accepted`` counts the leading items a batch operation (`put_many`)
    inserted before the close; 0 for single-item operations.
    """

    def __init__(self, message: str = "closed", *, accepted: int = 0) -> None:
        super().__init__(message)
        self.accepted = accepted


class AckError(MQError):
    """An ack or nack of a delivery that is no longer in flight.

    Raised for a second ack, an ack after a nack, and a late ack of a
    delivery the broker already took back (ack timeout, shutdown, delete).
    """


class UnknownTopic(MQError, LookupError):
    """No topic of that name exists (never created, or deleted)."""


class TopicExists(MQError):
    """`create_topic` was called with the name of an existing topic."""
