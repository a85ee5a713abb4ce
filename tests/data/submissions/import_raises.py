"""Hostile: importing it raises."""

SETTINGS = {}
LIMIT = SETTINGS["limit"]


class Buffer:
    pass
