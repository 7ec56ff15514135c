"""Numbers as a float computation prints them (the "observed" dialect).

Real answers of the usage endpoints carry binary floats: `0.036000000000000004` for
6 minutes at $0.006, quantities such as `5.801260062`. The simulator's truth stays its
exact fixed-point integers (catalog.py); the observed dialect prints, for each number, the
text of a float computed the way a billing service would (quantity x price, gross -
discount) and never prints less than the exact value: every text is >= the exact decimal
and above it by at most a few units in the 16th significant digit. A client that parses
the texts as decimals and sums N of them gets the exact sum plus less than
N x 1e-15 relative: rounded to the cent (any rounding), or to the 10 decimals the
simulator keeps, the sum is the simulator's ground truth (`GET /_sim/orgs/<login>/totals`)
for any month of a realistic org (totals under ~$100,000 per sum).

Texts follow JavaScript / Go `encoding/json`: the shortest text that reads back as the
same float, plain decimals from 1e-6 up to 1e21, an exponent outside (`3.3602e-7`),
whole numbers without `.0`.
"""

from __future__ import annotations

import math
from decimal import Decimal

from ghsim.catalog import fmt_units

#: how far above the exact value a float text may lie, relative (a few ulps)
TOLERANCE = Decimal("1e-15")


def float_json(x: float) -> str:
    """A float64 as Go's encoding/json (and JavaScript) writes it."""
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    text = repr(x)
    if 1e-6 <= abs(x) < 1e21:
        # Python switches to an exponent below 1e-4; Go and JavaScript only below 1e-6.
        return format(Decimal(text), "f") if "e" in text else text
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}"


def float_text(units: int, decimals: int, approx: float) -> str:
    """The text of `approx` (a float computation of the value `units` x 10^-decimals)
    when it is >= the exact value and close to it; otherwise the text of the nearest
    float at or above the exact value."""
    exact = Decimal(units).scaleb(-decimals)
    text = float_json(approx)
    value = Decimal(text)
    if exact <= value <= exact + abs(exact) * TOLERANCE:
        return text
    x = float(exact)
    for _ in range(8):
        text = float_json(x)
        if Decimal(text) >= exact:
            return text
        x = math.nextafter(x, math.inf)
    return fmt_units(units, decimals)  # not reached for finite values


class FloatPrinter:
    """Memoised `float_text` for one report (the same minutes at the same price recur)."""

    def __init__(self, limit: int = 20_000) -> None:
        self._memo: dict[tuple[int, int, float], str] = {}
        self._limit = limit

    def __call__(self, units: int, decimals: int, approx: float) -> str:
        key = (units, decimals, approx)
        text = self._memo.get(key)
        if text is None:
            text = float_text(units, decimals, approx)
            if len(self._memo) >= self._limit:
                self._memo.clear()
            self._memo[key] = text
        return text
