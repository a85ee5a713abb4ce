"""Hostile: importing it never finishes."""

while True:
    pass
