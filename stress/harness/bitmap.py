"""Bitmap: one bit per sequence number from a moving base; memory follows the window, not the run.

The ledger keeps what it knows about each message of a producer (published,
acked, dead-lettered, ...) as bits indexed by the producer's sequence
number.  `advance` forgets everything below a new base (a multiple of 8),
so a run of hours holds only the bits since the last audit.
"""

from __future__ import annotations


class Bitmap:
    """Bits for the sequence numbers ``base``, ``base + 1``, ...; not thread-safe (the owner's lock guards it)."""

    __slots__ = ("base", "_bytes")

    def __init__(self, base: int = 0) -> None:
        assert base % 8 == 0, base
        self.base = base  # Invariant: a multiple of 8; every bit below it is forgotten
        self._bytes = bytearray()

    def set(self, seq: int) -> bool:
        """Set the bit of ``seq`` (>= base); returns whether it was already set."""
        offset = seq - self.base
        assert offset >= 0, (seq, self.base)
        index = offset >> 3
        data = self._bytes
        if index >= len(data):
            self._grow(index + 1)
        mask = 1 << (offset & 7)
        was = bool(data[index] & mask)
        data[index] |= mask
        return was

    def test(self, seq: int) -> bool:
        """Whether the bit of ``seq`` (>= base) is set."""
        offset = seq - self.base
        assert offset >= 0, (seq, self.base)
        index = offset >> 3
        data = self._bytes
        return index < len(data) and bool(data[index] & (1 << (offset & 7)))

    def as_int(self, end: int) -> int:
        """The bits of ``base .. end - 1`` as an int (bit i is sequence number base + i)."""
        count = end - self.base
        if count <= 0:
            return 0
        value = int.from_bytes(self._bytes[: (count + 7) >> 3], "little")
        return value & ((1 << count) - 1)

    def advance(self, new_base: int) -> None:
        """Forget every bit below ``new_base`` (a multiple of 8, >= base).

        The bytes move down in place and the buffer keeps its size: after
        the first audits a run allocates nothing here (reallocating on every
        window fragmented the heap: RSS crept up by megabytes an hour).
        """
        assert new_base % 8 == 0 and new_base >= self.base, (new_base, self.base)
        shift = (new_base - self.base) >> 3
        data = self._bytes
        size = len(data)
        if shift >= size:
            data[:] = bytes(size)
        elif shift:
            with memoryview(data) as view:
                view[: size - shift] = view[shift:]
                view[size - shift :] = bytes(shift)
        self.base = new_base

    def _grow(self, needed: int) -> None:
        # Make room for ``needed`` bytes: at least double, so growth is rare and sizes repeat.
        data = self._bytes
        data.extend(bytes(max(needed, 2 * len(data), 64) - len(data)))

    def __len__(self) -> int:
        """Bytes held (for memory accounting): the largest window so far, rounded up to a power of two."""
        return len(self._bytes)


def ones(value: int) -> list[int]:
    """The positions of the set bits of ``value``, ascending."""
    positions = []
    while value:
        low = value & -value
        positions.append(low.bit_length() - 1)
        value ^= low
    return positions
