"""Bug: the slot index is advanced without a lock (semaphores alone guard counts, not indices).

Two producers that both pass `free_slots` can write the same slot: one item is
overwritten and a consumer later reads a slot twice. Between reading and
writing `tail` there is no synchronisation operation, so only line
granularity can interleave them.
"""

import threading

EXPECT = ("duplicate", "loss")
SCENARIO = {"capacity": 2}
GRANULARITY = "line"


class Buffer:
    def __init__(self, capacity):
        self.slots = [None] * capacity
        self.head = 0
        self.tail = 0
        self.free_slots = threading.Semaphore(capacity)
        self.filled_slots = threading.Semaphore(0)

    def put(self, item):
        self.free_slots.acquire()
        tail = self.tail
        self.slots[tail] = item
        self.tail = (tail + 1) % len(self.slots)
        self.filled_slots.release()

    def get(self):
        self.filled_slots.acquire()
        head = self.head
        item = self.slots[head]
        self.head = (head + 1) % len(self.slots)
        self.free_slots.release()
        return item
