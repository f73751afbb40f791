"""Identifiers: short prefixed ids from a passed-in source, random or seeded."""

from __future__ import annotations

import base64
import random
import secrets
from typing import Protocol

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_LENGTH = 20  # 100 bits
# RFC 4648 base32 (a-z, 2-7) mapped onto the Crockford alphabet above, without i, l, o, u.
_TO_CROCKFORD = str.maketrans("abcdefghijklmnopqrstuvwxyz234567", _ALPHABET)


class IdSource(Protocol):
    """Makes new identifiers such as ``cmp_8x2k...``."""

    def new(self, prefix: str) -> str:
        """A fresh identifier starting with ``prefix_``."""
        ...


class RandomIds:
    """Cryptographically random identifiers (the default)."""

    def new(self, prefix: str) -> str:
        # 100 random bits as 20 base32 characters; one call to the OS, fast enough per event.
        raw = base64.b32encode(secrets.token_bytes(13)).decode("ascii")[:_LENGTH]
        return f"{prefix}_" + raw.lower().translate(_TO_CROCKFORD)


class SeededIds:
    """Reproducible identifiers for tests and the simulator."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - reproducibility, not secrecy

    def new(self, prefix: str) -> str:
        return f"{prefix}_" + "".join(self._rng.choice(_ALPHABET) for _ in range(_LENGTH))
