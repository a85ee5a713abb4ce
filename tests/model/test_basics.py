"""First end-to-end checks: a correct buffer passes, classic bugs are caught."""

import threading

import model


class Buffer:
    """A correct bounded buffer on one lock and two conditions."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.items = []
        self.lock = threading.Lock()
        self.not_full = threading.Condition(self.lock)
        self.not_empty = threading.Condition(self.lock)

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.not_full.wait()
            self.items.append(item)
            self.not_empty.notify()

    def get(self):
        with self.lock:
            while not self.items:
                self.not_empty.wait()
            item = self.items.pop(0)
            self.not_full.notify()
            return item


class IfBuffer(Buffer):
    """Waits with ``if`` instead of ``while``: a consumer can wake to an empty buffer."""

    def get(self):
        with self.lock:
            if not self.items:
                self.not_empty.wait()
            item = self.items.pop(0)
            self.not_full.notify()
            return item


def scenario(cls, producers=2, consumers=2, items=2, capacity=1):
    def body():
        buf = cls(capacity)
        got = []

        def produce(p):
            for i in range(items):
                buf.put((p, i))

        def consume(n):
            for _ in range(n):
                got.append(buf.get())

        total = producers * items
        threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
        threads += [threading.Thread(target=consume, args=(total // consumers,)) for _ in range(consumers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == [(p, i) for p in range(producers) for i in range(items)], got

    return body


def test_a_correct_buffer_passes_random_exploration():
    result = model.check(scenario(Buffer), max_schedules=300)
    assert not result.failed, result.report()
    assert result.verdict == "pass" and result.schedules == 300 and result.steps > 300


def test_if_instead_of_while_is_caught_with_a_replayable_token():
    body = scenario(IfBuffer)
    result = model.check(body, max_schedules=2000)
    assert result.failed and result.property == "exception"
    assert "IndexError" in result.message
    again = model.replay(body, result.token)
    assert again.trace == result.trace
    assert again.property == result.property


def test_lock_order_deadlock_is_reported_with_each_blocked_thread():
    def body():
        a = threading.Lock()
        b = threading.Lock()

        def one():
            with a:
                with b:
                    pass

        def two():
            with b:
                with a:
                    pass

        t1 = threading.Thread(target=one)
        t2 = threading.Thread(target=two)
        t1.start()
        t2.start()
        t1.join()
        t2.join()

    result = model.check(body, max_schedules=500)
    assert result.property == "deadlock"
    names = {s.thread for s in result.blocked}
    assert names == {"MainThread", "Thread-1 (one)", "Thread-2 (two)"}
    assert {s.object for s in result.blocked if s.op == "acquire"} == {"a", "b"}
