"""Faults: test-only seams that break the broker on purpose, so the harness is shown able to fail.

``--inject-bug NAME`` installs one seam for the run: it wraps public methods
of `mq` classes (`Subscription.get`, `Broker.create_topic`,
`Broker.publish`) in this process only, and `uninstall` puts the originals
back.  `mq` knows nothing of it.  Each seam acts on group `TARGET_GROUP` of
topic `TARGET_TOPIC` and causes its fault deterministically:

* ``drop``: the `TRIGGER`-th first delivery (of a message without TTL) is
  acked by the seam and never returned: a message silently lost.
* ``duplicate``: the `TRIGGER`-th delivery is handed out again by the next
  get on the group: one delivery held by two consumers (or after its ack).
* ``overflow``: topics get capacity ``2 * capacity + 1`` behind the
  harness's back, and the target topic's consumers wait until
  ``capacity + 1`` messages were published to it: a broken capacity check.
* ``deadlock``: after the `TRIGGER`-th delivery a seam thread takes the
  group's lock and keeps it: a lock left held for good.  This is the one
  seam that needs a private attribute (`group_lock`).

`heal` undoes a fault's effect where it can (releases the held lock, opens
the consumers' gate) so a test process gets its threads back after the
harness reported the fault.
"""

from __future__ import annotations

import threading
from typing import Any

from mq import Broker, Subscription

TARGET_TOPIC = "stress-t0"
TARGET_GROUP = "g0"
TRIGGER = 25  # the seam acts on the 25th delivery of the target group


def group_lock(subscription: Subscription) -> Any:
    """The lock of the group behind ``subscription``: the one private attribute a seam uses.

    tests/stress/test_faults.py fails loudly if the broker's internals move it.
    """
    return subscription._group._lock  # noqa: SLF001 - the deadlock seam needs the real lock


def _is_target(subscription: Subscription) -> bool:
    return subscription.topic == TARGET_TOPIC and subscription.group == TARGET_GROUP


class Fault:
    """A seam: `install` patches, `uninstall` restores, `heal` undoes the damage; `holding` pauses audits."""

    name = "none"

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.triggered = threading.Event()  # set once the fault has been caused
        self._patched: list[tuple[type, str, Any]] = []
        self._lock = threading.Lock()  # guards the seam's own counters
        self._count = 0

    def _patch(self, owner: type, name: str, wrapper: Any) -> None:
        # Replace owner.name by wrapper, remembering the original for uninstall.
        self._patched.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, wrapper)

    def install(self) -> None:
        """Patch the mq classes."""

    def uninstall(self) -> None:
        """Restore every patched method; idempotent."""
        while self._patched:
            owner, name, original = self._patched.pop()
            setattr(owner, name, original)

    def heal(self) -> None:
        """Undo the fault's lasting effect, if any."""

    def holding(self) -> bool:
        """True while the seam deliberately keeps consumers waiting (audits must not wait for them)."""
        return False

    def _tick(self) -> int:
        # One more event on the target; returns its number.
        with self._lock:
            self._count += 1
            return self._count


class Drop(Fault):
    """The TRIGGER-th first delivery of a message without TTL is acked by the seam and never returned."""

    name = "drop"

    def install(self) -> None:
        original = Subscription.get
        fault = self

        def get(subscription: Subscription, timeout: float | None = None) -> Any:
            delivery = original(subscription, timeout)
            if (
                _is_target(subscription)
                and not fault.triggered.is_set()
                and delivery.message.ttl is None
                and delivery.message.delivery_count == 1
                and fault._tick() == TRIGGER
            ):
                delivery.ack()  # the broker counts it acked; no consumer ever sees it
                fault.triggered.set()
                delivery = original(subscription, timeout)
            return delivery

        self._patch(Subscription, "get", get)


class Duplicate(Fault):
    """The TRIGGER-th delivery of the target group is handed out again by the group's next get."""

    name = "duplicate"

    def install(self) -> None:
        original = Subscription.get
        fault = self
        stash: list[Any] = []

        def get(subscription: Subscription, timeout: float | None = None) -> Any:
            if _is_target(subscription):
                with fault._lock:
                    if stash:
                        fault.triggered.set()
                        return stash.pop()
            delivery = original(subscription, timeout)
            if _is_target(subscription) and not fault.triggered.is_set() and fault._tick() == TRIGGER:
                with fault._lock:
                    stash.append(delivery)
            return delivery

        self._patch(Subscription, "get", get)


class Overflow(Fault):
    """Topics get capacity 2C+1; the target topic's consumers wait until C+1 messages were published to it."""

    name = "overflow"

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._gate = threading.Event()  # set: the target topic's consumers may get

    def install(self) -> None:
        create_topic, publish, get = Broker.create_topic, Broker.publish, Subscription.get
        fault = self

        def create_topic_wrapper(broker: Broker, name: str, **options: Any) -> None:
            if options.get("capacity") is not None:
                options["capacity"] = 2 * options["capacity"] + 1  # the broken capacity check
            create_topic(broker, name, **options)

        def publish_wrapper(broker: Broker, topic: str, payload: Any, **options: Any) -> int:
            message_id = publish(broker, topic, payload, **options)
            if topic == TARGET_TOPIC and not fault._gate.is_set() and fault._tick() > fault.capacity:
                fault.triggered.set()
                fault._gate.set()
            return message_id

        def get_wrapper(subscription: Subscription, timeout: float | None = None) -> Any:
            if subscription.topic == TARGET_TOPIC and not fault._gate.is_set():
                fault._gate.wait(timeout)  # a gate, not a timer: publishes or heal open it
            return get(subscription, timeout)

        self._patch(Broker, "create_topic", create_topic_wrapper)
        self._patch(Broker, "publish", publish_wrapper)
        self._patch(Subscription, "get", get_wrapper)

    def heal(self) -> None:
        self._gate.set()

    def holding(self) -> bool:
        return not self._gate.is_set()


class Deadlock(Fault):
    """After the TRIGGER-th delivery of the target group a seam thread takes the group's lock for good."""

    name = "deadlock"

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._release = threading.Event()  # set by heal: the seam thread lets go of the lock
        self._holder: threading.Thread | None = None

    def install(self) -> None:
        original = Subscription.get
        fault = self

        def get(subscription: Subscription, timeout: float | None = None) -> Any:
            delivery = original(subscription, timeout)
            if _is_target(subscription) and not fault.triggered.is_set() and fault._tick() == TRIGGER:
                fault._hold(group_lock(subscription))
            return delivery

        self._patch(Subscription, "get", get)

    def _hold(self, lock: Any) -> None:
        # Start the thread that takes ``lock`` and keeps it until heal; return once it holds it.
        held = threading.Event()

        def keep() -> None:
            with lock:
                held.set()
                self._release.wait()

        self._holder = threading.Thread(target=keep, name="fault-deadlock-holder", daemon=True)
        self._holder.start()
        held.wait()
        self.triggered.set()

    def heal(self) -> None:
        self._release.set()


_FAULTS: dict[str, type[Fault]] = {cls.name: cls for cls in (Drop, Duplicate, Overflow, Deadlock)}


def make_fault(name: str | None, capacity: int) -> Fault | None:
    """The seam called ``name`` (None: no fault)."""
    return None if name is None else _FAULTS[name](capacity)
