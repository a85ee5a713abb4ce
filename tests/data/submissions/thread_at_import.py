"""Hostile: importing it starts a real thread through threading's private helper.

The thread blocks for ever on a raw lock, outside anything the checker controls.
"""

import _thread
import queue
import threading

_held = _thread.allocate_lock()
_held.acquire()
threading._start_new_thread(_held.acquire, ())


class Buffer:
    def __init__(self, capacity):
        self.queue = queue.Queue(capacity)

    def put(self, item):
        self.queue.put(item)

    def get(self):
        return self.queue.get()
