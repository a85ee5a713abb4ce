"""The TTL reaper: a thread that runs `Broker.reap` every ``interval`` seconds.

A pass drops expired messages wherever they sit in a group's queue (``get``
only drops them when they reach the head) and takes back in-flight
deliveries older than their group's ``ack_timeout``, waking any consumer
blocked in ``get`` for them.  Between passes the thread waits on an `Event`
with the interval as timeout: a timer, not synchronisation; `stop` sets the
event and the thread ends at once.  It holds the broker by weak reference,
so a broker dropped without `shutdown` does not live on through its reaper.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mq.broker import Broker


class Reaper:
    """The reaper thread of one broker."""

    def __init__(self, broker: Broker, interval: float) -> None:
        self._broker = weakref.ref(broker)
        self.interval = interval
        # Set once, by stop(): ends the wait between passes at once.
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mq-reaper", daemon=True)
        self.passes = 0  # written only by the reaper thread

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it does so without waiting for the interval. Idempotent."""
        self._stopping.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            broker = self._broker()
            if broker is None:
                return
            broker.reap()
            self.passes += 1
            del broker
