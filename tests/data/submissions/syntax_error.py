"""Hostile: does not parse."""

class Buffer:
    def put(self, item)
        pass
