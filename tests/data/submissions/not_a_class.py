"""Hostile: Buffer is a function."""

import queue


def Buffer(capacity):
    return queue.Queue(capacity)
