"""Producer and Consumer threads, and Workers: the consumers of one `Broker.consume` call.

Each class wraps a `threading.Thread` it creates (composition, not a
subclass, so the thread class is looked up when the object is made).
``start()``, ``stop()`` (graceful: the current message is finished),
``join(timeout)`` returning True once the thread ended, and counters.  The
counters are written only by the object's own thread; other threads read
them (an int read sees some recent value; read them after ``join`` for
final numbers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from mq.errors import AckError, Closed, Full, MQError
from mq.message import Message

if TYPE_CHECKING:
    from mq.broker import Broker
    from mq.delivery import Subscription


class Consumer:
    """A thread that takes deliveries from one subscription and calls ``handler(message)``.

    The delivery is acked when the handler returns and nacked (requeued)
    when it raises an `Exception`.  ``processed`` counts accepted acks,
    ``failed`` handler exceptions (``last_error`` keeps the latest),
    ``stale`` acks or nacks refused because the broker had taken the
    delivery back (ack timeout, shutdown).  The thread ends when its
    subscription is closed: by `stop`, or by the broker's shutdown.
    """

    def __init__(
        self,
        subscription: Subscription,
        handler: Callable[[Message], Any],
        *,
        name: str | None = None,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"'handler' must be callable, got {handler!r}")
        self._subscription = subscription
        self._handler = handler
        self.processed = 0
        self.failed = 0
        self.stale = 0
        self.last_error: BaseException | None = None
        if name is None:
            name = f"mq-consumer-{subscription.topic}-{subscription.group or 'default'}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def name(self) -> str:
        """The thread's name."""
        return self._thread.name

    @property
    def subscription(self) -> Subscription:
        """The subscription this consumer reads."""
        return self._subscription

    def start(self) -> Consumer:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Finish the current message, then end: closes the subscription. Idempotent."""
        self._subscription.close()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has.

        Called from the consumer's own thread (a handler that shuts the
        broker down) it returns False at once: a thread cannot join itself
        (``Thread.join`` says so with a RuntimeError).
        """
        try:
            self._thread.join(timeout)
        except RuntimeError:
            return False
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        get = self._subscription.get
        handler = self._handler
        while True:
            try:
                delivery = get()
            except Closed:
                return
            try:
                handler(delivery.message)
            except Exception as error:
                self.failed += 1
                self.last_error = error
                try:
                    delivery.nack()
                except AckError:
                    self.stale += 1
                continue
            try:
                delivery.ack()
            except AckError:
                self.stale += 1
            else:
                self.processed += 1

    def __repr__(self) -> str:
        state = "alive" if self.is_alive() else "stopped"
        return (
            f"<Consumer {self.name} {state} processed={self.processed} "
            f"failed={self.failed} stale={self.stale}>"
        )


class Producer:
    """A thread that publishes each payload of ``payloads`` to ``topic``.

    ``priority``, ``ttl``, ``headers`` and ``timeout`` are passed to every
    `Broker.publish`.  ``published`` counts accepted publishes; ``failed``
    counts publishes refused with `Full` (the timeout passed under
    backpressure; the producer goes on with the next payload).  Any other
    `MQError` (topic deleted, broker shut down) ends the thread and is kept
    in ``last_error``.  ``stop()`` ends it before the next payload; a publish
    blocked by backpressure completes first (or ends with the shutdown).
    """

    def __init__(
        self,
        broker: Broker,
        topic: str,
        payloads: Iterable[Any],
        *,
        priority: float = 0,
        ttl: float | None = None,
        headers: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        name: str | None = None,
    ) -> None:
        self._broker = broker
        self._topic = topic
        self._payloads = payloads
        self._options = {"priority": priority, "ttl": ttl, "headers": headers, "timeout": timeout}
        self.published = 0
        self.failed = 0
        self.last_error: BaseException | None = None
        # Set once, by stop(): the thread checks it before each publish.
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name or f"mq-producer-{topic}", daemon=True)

    @property
    def name(self) -> str:
        """The thread's name."""
        return self._thread.name

    def start(self) -> Producer:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """End before the next payload. Idempotent."""
        self._stopping.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        publish = self._broker.publish
        topic = self._topic
        options = self._options
        for payload in self._payloads:
            if self._stopping.is_set():
                return
            try:
                publish(topic, payload, **options)
            except Full as error:
                self.failed += 1
                self.last_error = error
            except MQError as error:
                self.last_error = error
                return
            else:
                self.published += 1

    def __repr__(self) -> str:
        state = "alive" if self.is_alive() else "stopped"
        return f"<Producer {self.name} {state} published={self.published} failed={self.failed}>"


class Workers:
    """The consumer threads started by one `Broker.consume` call."""

    def __init__(self, consumers: Iterable[Consumer]) -> None:
        self._consumers = tuple(consumers)

    @property
    def consumers(self) -> tuple[Consumer, ...]:
        """The `Consumer` objects."""
        return self._consumers

    def __len__(self) -> int:
        return len(self._consumers)

    def __iter__(self) -> Iterator[Consumer]:
        return iter(self._consumers)

    @property
    def processed(self) -> int:
        """Sum of the consumers' ``processed``."""
        return sum(consumer.processed for consumer in self._consumers)

    @property
    def failed(self) -> int:
        """Sum of the consumers' ``failed``."""
        return sum(consumer.failed for consumer in self._consumers)

    @property
    def stale(self) -> int:
        """Sum of the consumers' ``stale``."""
        return sum(consumer.stale for consumer in self._consumers)

    def stop(self) -> None:
        """Stop every consumer (each finishes its current message)."""
        for consumer in self._consumers:
            consumer.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Join every consumer within one overall ``timeout``; True when all ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for consumer in self._consumers:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            consumer.join(remaining)
        return not self.is_alive()

    def is_alive(self) -> bool:
        """True while any consumer runs."""
        return any(consumer.is_alive() for consumer in self._consumers)

    def __repr__(self) -> str:
        return f"<Workers {len(self._consumers)} processed={self.processed} failed={self.failed}>"
