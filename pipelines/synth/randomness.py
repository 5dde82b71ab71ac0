"""Seeded random streams and pseudonymous participant codes.

Every component draws from its own stream keyed by (seed, purpose, year, …), so the output does not
depend on the order in which components run, and a year generated alone equals the same year generated
in a longer range (planted cases aside, which depend on the range).
"""

from __future__ import annotations

import zlib

import numpy as np

_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _key(part: object) -> int:
    return part if isinstance(part, int) else zlib.crc32(str(part).encode("utf-8"))


def stream(seed: int, *purpose: object) -> np.random.Generator:
    """An independent generator for one purpose, e.g. stream(seed, "vpr", 2023, "MA5")."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=[_key(p) for p in purpose])))


def _mix32(values: np.ndarray, key: int) -> np.ndarray:
    """A bijection of 32-bit integers (xor-shift-multiply steps are each invertible), keyed by `key`."""
    x = (values.astype(np.uint64) + np.uint64(key & 0xFFFFFFFF)) & np.uint64(0xFFFFFFFF)
    x = x.astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x ^ np.uint32((key >> 32) & 0xFFFFFFFF)


def participant_codes(seed: int, purpose: str, year: int, count: int) -> np.ndarray:
    """`count` distinct codes like 'P-8F3A21C0' (bytes, dtype S10): a keyed permutation of 0…count-1.

    Distinct within one (purpose, year), so codes are unique within school × work × year as the ФИС ОКО
    form requires, and no code reveals a sequence number.
    """
    key = int(stream(seed, "participant-codes", purpose, year).integers(0, 2**63))
    mixed = _mix32(np.arange(count, dtype=np.uint64), key)
    shifts = np.arange(28, -1, -4, dtype=np.uint32)
    digits = _HEX[(mixed[:, None] >> shifts) & np.uint32(0xF)]
    prefix = np.broadcast_to(np.frombuffer(b"P-", dtype=np.uint8), (count, 2))
    return np.ascontiguousarray(np.hstack([prefix, digits])).view("S10").ravel()
