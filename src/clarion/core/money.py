"""Money: an exact amount in one currency, stored as integer minor units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 currencies Clarion accepts, with their number of minor-unit digits.
CURRENCY_DIGITS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2,
    "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "MXN": 2, "BRL": 2, "ARS": 2, "CLP": 0,
    "COP": 2, "PEN": 2, "INR": 2, "CNY": 2, "HKD": 2, "SGD": 2, "ZAR": 2, "TRY": 2, "ILS": 2,
    "AED": 2, "JPY": 0, "KRW": 0,
}  # fmt: skip


def is_currency(code: str) -> bool:
    """True if ``code`` is a currency Clarion knows."""
    return code in CURRENCY_DIGITS


@dataclass(frozen=True, order=True)
class Money:
    """An amount of one currency; arithmetic across currencies is an error."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in CURRENCY_DIGITS:
            raise ValueError(f"unknown currency {self.currency!r}")

    @classmethod
    def of(cls, amount: Decimal | int | str | float, currency: str) -> Money:
        value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
        quantum = Decimal(1).scaleb(-CURRENCY_DIGITS.get(currency, 2))
        return cls(value.quantize(quantum, rounding=ROUND_HALF_EVEN), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-CURRENCY_DIGITS[currency]), currency)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents), exact."""
        return int(self.amount.scaleb(CURRENCY_DIGITS[self.currency]))

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"
