"""The broker as a pure sequential model (``mq.Broker``, docs/broker.md).

One call at a time, no threads, no real clock.  ``BrokerSpec().run(state,
call)`` returns the outcome docs/broker.md prescribes and the next state;
``step(state, call, result)`` (the protocol of ``model.specs``) says whether
an observed result is that outcome.  ``run`` never changes the state it is
given: it works on a copy.

Handles are numbers: the n-th successful ``subscribe`` made subscription n,
the n-th delivery ``get`` handed out is delivery n (both from 0); calls on
a handle name it first.  The broker clock is part of the state (``now``);
``advance(seconds)`` moves it.  A ``timeout`` is never waited out: one
thread alone cannot be woken, so a call that must wait gives up at once if
it has a timeout (``Full`` / ``Empty``) and otherwise never returns (the
outcome `BLOCKS`, which no result matches).

======================================  ==========================================
call                                    outcome
======================================  ==========================================
create_topic(name, capacity=, ttl=,     None; TopicExists; Closed after shutdown
  max_deliveries=, ack_timeout=)
delete_topic(name)                      its final `TopicView`: its groups close
                                        and what they held is discarded
topics()                                names of the live topics, creation order
publish(topic, payload, ttl=,           the new id (1, 2, ... over the broker),
  priority=, headers=, timeout=)        fanned out to every group of the topic;
                                        Full / BLOCKS while some group is full
                                        (nothing happens then); Closed after
                                        shutdown
subscribe(topic, group=None)            ``(topic, group)``; creates the group on
                                        first use; Closed after shutdown
close(sub)                              None; idempotent
get(sub, timeout=None)                  the `Msg` delivered (delivery n); Empty /
                                        BLOCKS when none is ready; Closed when
                                        the subscription or its group is closed
ack(d) / nack(d, requeue=True)          None; AckError unless d is in flight
state(d)                                "IN_FLIGHT", "ACKED", "NACKED",
                                        "TIMED_OUT" or "DISCARDED"
reap()                                  how many messages left groups: expired,
                                        or dead-lettered after an ack timeout
dead_letter(topic)                      the oldest `DeadLetterView`, removed;
                                        Empty; Closed once the topic closed and
                                        none is left
stats()                                 `BrokerView`
shutdown(drain=True, timeout=None)      True when everything drained (or not
                                        draining); later calls repeat it
advance(seconds)                        None: the broker clock moves on
======================================  ==========================================

Which error comes first: argument errors (TypeError / ValueError) in
argument order, except that a topic name is looked up first (a bad or
unknown name gives TypeError / ValueError / UnknownTopic before the other
arguments are read, and ``subscribe`` checks ``group`` before it); then
Closed; then the call's own outcome.

Per group, ready messages are kept in service order (higher priority first,
then arrival) and deliveries in delivery order.  ``get`` first takes back
every overdue delivery (delivered ``ack_timeout`` or more ago), then drops
expired messages (``now >= expires_at``) from the head and delivers the
first live one.  ``reap`` drops expired ready messages wherever they are,
then takes back overdue deliveries.  Taking back is ``nack(requeue=True)``
by the broker: a copy with ``delivery_count + 1`` goes behind the ready
messages of its priority, or, when delivery number ``max_deliveries``
failed, the message goes to the dead letters (reason "max_deliveries").
"""

from __future__ import annotations

from typing import Any

from model.specs import Call, Raised
from model.specs.arguments import (
    count_error,
    duration_error,
    headers_error,
    name_error,
    priority_error,
    timeout_error,
)
from model.specs.broker_state import (
    COUNTERS,
    BrokerView,
    DeadLetterView,
    Delivery,
    Group,
    GroupView,
    Msg,
    Subscription,
    Topic,
    TopicView,
    World,
    group_view,
    identity_holds,
    topic_view,
)

__all__ = [
    "BLOCKS", "COUNTERS", "BrokerSpec", "BrokerView", "DeadLetterView", "GroupView", "Msg",
    "TopicView", "World", "identity_holds", "matches",
]


class _Blocks:
    """The outcome of a call that waits forever (``BLOCKS``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "BLOCKS"


BLOCKS = _Blocks()

QUERIES = ("topics", "state", "stats")  # calls that never change the state


# -- the model ----------------------------------------------------------------


class BrokerSpec:
    """``mq.Broker`` one call at a time; see the module docstring."""

    def __init__(self, now: float = 0.0) -> None:
        self.start = now

    def init(self) -> World:
        return World(now=self.start)

    def run(self, state: World, call: Call) -> tuple[Any, World]:
        """The outcome of ``call`` in ``state`` and the state after it (``state`` untouched)."""
        if call.name in QUERIES:  # they change nothing: no copy needed
            return getattr(self, "_" + call.name)(state, *call.args, **call.kwargs), state
        world = state.clone()
        outcome = getattr(self, "_" + call.name)(world, *call.args, **call.kwargs)
        return outcome, (state if outcome is BLOCKS else world)

    def step(self, state: World, call: Call, result: Any) -> tuple[bool, World]:
        """May ``call`` return ``result`` in ``state``? Exceptions match on their type alone."""
        expected, after = self.run(state, call)
        ok = matches(result, expected)
        return ok, (after if ok else state)

    # -- topics ----------------------------------------------------------------

    def _create_topic(self, w, name, *, capacity=None, ttl=None, max_deliveries=None, ack_timeout=None):
        error = (name_error(name) or count_error(capacity) or duration_error(ttl)
                 or count_error(max_deliveries) or duration_error(ack_timeout))
        if error:
            return error
        if w.closed:
            return Raised("Closed")
        if name in w.live:
            return Raised("TopicExists")
        w.live[name] = len(w.topics)
        w.topics.append(Topic(name, capacity, ttl, max_deliveries, ack_timeout))
        return None

    def _delete_topic(self, w, name):
        topic, error = _find(w, name)
        if error:
            return error
        del w.live[name]
        topic.open = False
        _close_groups(w, topic)
        return topic_view(topic)

    def _topics(self, w):
        return tuple(w.live)

    # -- publish / subscribe -------------------------------------------------

    def _publish(self, w, topic, payload, *, ttl=None, priority=0, headers=None, timeout=None):
        target, error = _find(w, topic)
        if error:
            return error
        error = duration_error(ttl) or priority_error(priority) or headers_error(headers) or timeout_error(timeout)
        if error:
            return error
        if not target.open:
            return Raised("Closed")
        groups = list(target.groups.values())
        if target.capacity is not None and any(g.occupied() >= target.capacity for g in groups):
            if timeout is None:
                return BLOCKS
            target.publish_waits += 1
            return Raised("Full")
        ttl = target.ttl if ttl is None else ttl
        expires_at = None if ttl is None else w.now + ttl
        pairs = tuple(sorted(dict(headers or {}).items()))
        message = Msg(w.next_id, target.name, payload, priority, ttl, w.now, expires_at, 1, pairs)
        w.next_id += 1
        for group in groups:
            _insert(group.ready, message)
            group.counts["published"] += 1
            group.high_water = max(group.high_water, group.occupied())
        target.published += 1
        if not groups:
            target.unrouted += 1
        return message.id

    def _subscribe(self, w, topic, group=None):
        error = name_error(group, allow_none=True)
        if error:
            return error
        target, error = _find(w, topic)
        if error:
            return error
        if not target.open:
            return Raised("Closed")
        target.groups.setdefault(group, Group(group)).subscriptions += 1
        w.subscriptions.append(Subscription(w.live[topic], group))
        return (topic, group)

    # -- subscriptions and deliveries -------------------------------------------

    def _close(self, w, sub):
        subscription = w.subscriptions[sub]
        if not subscription.closed:
            subscription.closed = True
            w.group_of(subscription)[1].subscriptions -= 1
        return None

    def _get(self, w, sub, timeout=None):
        error = timeout_error(timeout)
        if error:
            return error
        subscription = w.subscriptions[sub]
        topic, group = w.group_of(subscription)
        if group.closed or subscription.closed:
            return Raised("Closed")
        _take_back_overdue(w, topic, group)
        while group.ready:
            message = group.ready.pop(0)
            if _expired(message, w.now):
                group.counts["expired"] += 1
                continue
            group.in_flight.append(len(w.deliveries))
            w.deliveries.append(Delivery(subscription.topic, group.name, message, w.now))
            group.counts["delivered"] += 1
            if message.delivery_count > 1:
                group.counts["redelivered"] += 1
            return message
        return BLOCKS if timeout is None else Raised("Empty")

    def _ack(self, w, d):
        delivery = w.deliveries[d]
        if delivery.state != "IN_FLIGHT":
            return Raised("AckError")
        _, group = w.group_of(delivery)
        delivery.state = "ACKED"
        group.in_flight.remove(d)
        group.counts["acked"] += 1
        return None

    def _nack(self, w, d, requeue=True):
        delivery = w.deliveries[d]
        if delivery.state != "IN_FLIGHT":
            return Raised("AckError")
        topic, group = w.group_of(delivery)
        delivery.state = "NACKED"
        group.in_flight.remove(d)
        group.counts["nacked"] += 1
        if requeue:
            _retry(topic, group, delivery.message)
        else:
            _dead_letter(topic, group, delivery.message, "rejected")
        return None

    def _state(self, w, d):
        return w.deliveries[d].state

    # -- maintenance, stats, shutdown, clock -------------------------------------

    def _reap(self, w):
        freed = 0
        for index in w.live.values():
            topic = w.topics[index]
            for group in topic.groups.values():
                if group.closed:
                    continue
                live = [m for m in group.ready if not _expired(m, w.now)]
                expired = len(group.ready) - len(live)
                group.ready = live
                group.counts["expired"] += expired
                freed += expired + _take_back_overdue(w, topic, group)
        return freed

    def _dead_letter(self, w, topic):
        target, error = _find(w, topic)
        if error:
            return error
        if target.dead_letters:
            return target.dead_letters.pop(0)
        return Raised("Empty" if target.open else "Closed")

    def _stats(self, w):
        return BrokerView(w.closed, tuple(topic_view(w.topics[i]) for i in w.live.values()))

    def _shutdown(self, w, drain=True, timeout=None):
        error = timeout_error(timeout)
        if error:
            return error
        if w.closed:
            return w.shutdown_result
        topics = [w.topics[i] for i in w.live.values()]
        groups = [g for t in topics for g in t.groups.values()]
        # A drain waits for groups someone could still empty; only a timeout ends that wait.
        if drain and timeout is None and any(g.occupied() and g.subscriptions for g in groups):
            return BLOCKS
        drained = not any(g.occupied() for g in groups)
        w.closed = True
        for topic in topics:
            topic.open = False
            _close_groups(w, topic)
        w.shutdown_result = drained or not drain
        return w.shutdown_result

    def _advance(self, w, seconds):
        assert seconds >= 0, "the broker clock never goes back"
        w.now += seconds
        return None


def matches(result: Any, expected: Any) -> bool:
    """Is ``result`` the ``expected`` outcome? Errors match on their type alone; nothing matches BLOCKS."""
    if isinstance(expected, Raised):
        return isinstance(result, Raised) and result.type == expected.type
    return expected is not BLOCKS and not isinstance(result, Raised) and result == expected


# -- rules shared by several calls --------------------------------------------


def _find(w: World, name: Any) -> tuple[Topic | None, Raised | None]:
    # The live topic named ``name``, or the error: a bad name's, else UnknownTopic.
    try:
        index = w.live.get(name)
    except TypeError:  # unhashable
        return None, Raised("TypeError")
    if index is None:
        return None, name_error(name) or Raised("UnknownTopic")
    return w.topics[index], None


def _insert(ready: list[Msg], message: Msg) -> None:
    # Behind every message of the same or a higher priority.
    at = len(ready)
    while at and ready[at - 1].priority < message.priority:
        at -= 1
    ready.insert(at, message)


def _expired(message: Msg, now: float) -> bool:
    return message.expires_at is not None and now >= message.expires_at


def _retry(topic: Topic, group: Group, message: Msg) -> int:
    # A failed delivery: requeue a copy with delivery_count + 1, or dead-letter
    # it after delivery number max_deliveries.  Returns the slots freed.
    if topic.max_deliveries is not None and message.delivery_count >= topic.max_deliveries:
        _dead_letter(topic, group, message, "max_deliveries")
        return 1
    _insert(group.ready, message._replace(delivery_count=message.delivery_count + 1))
    return 0


def _dead_letter(topic: Topic, group: Group, message: Msg, reason: str) -> None:
    group.counts["dead_lettered"] += 1
    topic.dead_letters.append(DeadLetterView(message, group.name, reason))


def _take_back_overdue(w: World, topic: Topic, group: Group) -> int:
    # Every delivery in flight ack_timeout or longer goes back, oldest first; returns the slots freed.
    if topic.ack_timeout is None:
        return 0
    overdue = [d for d in group.in_flight if w.now >= w.deliveries[d].at + topic.ack_timeout]
    freed = 0
    for d in overdue:
        group.in_flight.remove(d)
        w.deliveries[d].state = "TIMED_OUT"
        group.counts["ack_timeouts"] += 1
        freed += _retry(topic, group, w.deliveries[d].message)
    return freed


def _close_groups(w: World, topic: Topic) -> None:
    # Close every group of a topic that stopped: what is ready or in flight is discarded.
    for group in topic.groups.values():
        if group.closed:
            continue
        for d in group.in_flight:
            w.deliveries[d].state = "DISCARDED"
        group.counts["discarded"] += group.occupied()
        group.ready, group.in_flight, group.closed = [], [], True
