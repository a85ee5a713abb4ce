"""Bug: the size counter is updated outside the lock (`self.count += 1` is not atomic).

Blocking and the items are guarded correctly by semaphores and a mutex, but
qsize() reports a counter that loses updates: it can read below 0 or above
the capacity. Only line granularity interleaves the read and the write.
"""

import collections
import threading


class Buffer:
    def __init__(self, capacity):
        self.items = collections.deque()
        self.count = 0
        self.mutex = threading.Lock()
        self.free_slots = threading.Semaphore(capacity)
        self.filled_slots = threading.Semaphore(0)

    def put(self, item):
        self.free_slots.acquire()
        with self.mutex:
            self.items.append(item)
        self.filled_slots.release()
        count = self.count
        self.count = count + 1

    def get(self):
        self.filled_slots.acquire()
        with self.mutex:
            item = self.items.popleft()
        self.free_slots.release()
        count = self.count
        self.count = count - 1
        return item

    def qsize(self):
        return self.count
