"""Signed tokens: what is issued verifies; nothing altered, forged or odd ever does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.tracking.tokens import TokenClaims, sign, verify

KEY = b"k" * 32


@pytest.mark.parametrize(
    "claims",
    [TokenClaims("o", "msg_1"), TokenClaims("c", "msg_1", 0), TokenClaims("c", "m", 9999)],
)
def test_an_issued_token_verifies_to_its_claims(claims: TokenClaims) -> None:
    assert verify(sign(claims, KEY), KEY, claims.kind) == claims


def test_a_token_is_only_good_for_its_kind_and_key() -> None:
    token = sign(TokenClaims("o", "msg_1"), KEY)
    assert verify(token, KEY, "c") is None
    assert verify(token, b"other", "o") is None


@given(st.data())
def test_changing_any_character_breaks_the_token(data: st.DataObject) -> None:
    token = sign(TokenClaims("c", "msg_abc", 3), KEY)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[position]))
    forged = token[:position] + replacement + token[position + 1 :]
    assert verify(forged, KEY, "c") is None


@given(st.text(max_size=300))
def test_arbitrary_text_never_verifies_nor_raises(text: str) -> None:
    assert verify(text, KEY, "c") is None
    assert verify(text, KEY, "o") is None
