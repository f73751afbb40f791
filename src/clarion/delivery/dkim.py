"""DKIM signing (dkimpy): the key from settings, the headers that matter signed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import dkim

from clarion.core.errors import FieldProblem, InvalidInput

SIGNED_HEADERS: Final = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


@dataclass(frozen=True)
class DkimKey:
    """A selector, its domain and the PEM private key that signs for them."""

    domain: str
    selector: str
    private_key: bytes


def load_key(domain: str, selector: str, path: Path) -> DkimKey:
    """Read a PEM private key; InvalidInput naming the setting when it is missing or wrong."""
    try:
        pem = path.read_bytes()
    except OSError as error:
        problem = f"cannot read the DKIM key {path}: {error.strerror}"
        raise InvalidInput(problem, [FieldProblem("smtp.dkim_key_file", problem)]) from None
    if b"PRIVATE KEY" not in pem:
        problem = f"{path} is not a PEM private key"
        raise InvalidInput(problem, [FieldProblem("smtp.dkim_key_file", problem)])
    return DkimKey(domain=domain, selector=selector, private_key=pem)


def dkim_sign(message: bytes, key: DkimKey) -> bytes:
    """The ``DKIM-Signature:`` header line(s) for ``message`` (relaxed/relaxed, rsa-sha256)."""
    signature: bytes = dkim.sign(
        message,
        key.selector.encode("ascii"),
        key.domain.encode("ascii"),
        key.private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(SIGNED_HEADERS),
        linesep=b"\r\n",
    )
    return signature
