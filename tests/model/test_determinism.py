"""Same seed, same exploration and report; a token replays the identical trace; shrinking."""

import threading

import pytest

import model
from model.errors import Nondeterminism, TokenError
from model.trace import TokenData, decode_token, encode_token
from tests.model.test_basics import Buffer, IfBuffer, scenario


class NotifyOneBuffer(Buffer):
    """Two conditions would be fine; one condition with notify() is the classic deadlock."""

    def __init__(self, capacity):
        super().__init__(capacity)
        self.changed = threading.Condition(self.lock)

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.changed.wait()
            self.items.append(item)
            self.changed.notify()

    def get(self):
        with self.lock:
            while not self.items:
                self.changed.wait()
            item = self.items.pop(0)
            self.changed.notify()
            return item


BUGS = [IfBuffer, NotifyOneBuffer]


@pytest.mark.parametrize("cls", BUGS)
@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_the_same_seed_gives_the_same_result_and_report_text(cls, strategy):
    first = model.check(scenario(cls), strategy=strategy, seed=11, max_schedules=3000)
    second = model.check(scenario(cls), strategy=strategy, seed=11, max_schedules=3000)
    assert first.failed
    assert first == second  # every field but elapsed
    assert first.report() == second.report()


@pytest.mark.parametrize("cls", BUGS)
def test_a_token_replays_to_the_identical_trace_every_time(cls):
    body = scenario(cls)
    result = model.check(body, seed=3, max_schedules=3000)
    assert result.failed
    for _ in range(3):
        again = model.replay(body, result.token)
        assert again.trace == result.trace
        assert again.report() == result.report()
        assert again.property == result.property


@pytest.mark.parametrize("cls", BUGS)
def test_shrinking_shortens_the_trace_and_keeps_the_property(cls):
    body = scenario(cls)
    raw = model.check(body, seed=5, max_schedules=3000, shrink=False)
    shrunk = model.check(body, seed=5, max_schedules=3000)
    assert raw.property == shrunk.property
    assert shrunk.shrunk_from == (len(raw.trace), raw.preemptions)
    assert (shrunk.preemptions, len(shrunk.trace)) <= (raw.preemptions, len(raw.trace))
    assert len(shrunk.trace) < len(raw.trace) or shrunk.preemptions < raw.preemptions
    assert model.replay(body, shrunk.token).trace == shrunk.trace
    assert len(shrunk.report().splitlines()) <= 50


def test_the_notify_one_deadlock_report_is_short_and_names_the_waiters():
    result = model.check(scenario(NotifyOneBuffer), seed=1, max_schedules=5000)
    assert result.property == "deadlock"
    assert {s.op for s in result.blocked} <= {"wait", "join"}
    assert {s.object for s in result.blocked if s.op == "wait"} == {"changed"}
    assert len(result.report().splitlines()) <= 50


def test_tokens_round_trip_and_are_one_compact_line():
    data = TokenData("sync", True, 20_000, False, 123, 456, "deadlock", (0, 3, 1, 2, 300))
    token = encode_token(data)
    assert token.startswith("mq1:") and "\n" not in token and len(token) < 80
    assert decode_token(token) == data
    assert decode_token("  " + token + "\n") == data


@pytest.mark.parametrize("bad, complaint", [
    ("hello", "does not start with 'mq1:'"),
    ("mq1:!!!!", "malformed"),
    ("mq1:eJwLz", "malformed"),
    (42, "is a str"),
])
def test_a_malformed_token_raises_a_clear_error(bad, complaint):
    with pytest.raises(TokenError, match=complaint):
        decode_token(bad)


def test_replay_refuses_a_token_of_another_body_or_other_settings():
    body = scenario(IfBuffer)
    result = model.check(body, seed=3, max_schedules=3000)

    def other():
        pass

    with pytest.raises(TokenError, match="another body"):
        model.replay(other, result.token)
    with pytest.raises(TokenError, match="granularity"):
        model.replay(body, result.token, granularity="line")
    with pytest.raises(TokenError, match="on_deadlock"):
        model.replay(body, result.token, on_deadlock=lambda: None)


def test_a_nondeterministic_body_is_reported_as_such_on_replay():
    import random

    def body():
        box = []
        n = random.randrange(1, 4)
        threads = [threading.Thread(target=box.append, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(box) < 3

    random.seed(0)
    first = None
    for _ in range(20):
        try:
            first = model.check(body, max_schedules=50)
        except Nondeterminism as e:
            assert "does not run the same way twice" in str(e)
            return
        if first.failed:
            break
    assert first is not None and first.failed
    with pytest.raises(Nondeterminism):
        for _ in range(50):
            model.replay(body, first.token)
