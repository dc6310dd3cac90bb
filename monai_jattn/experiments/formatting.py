"""Number formatting for the markdown reports."""

from __future__ import annotations

__all__ = ["three_digits"]


def three_digits(value: float) -> str:
    """At least three significant digits and no exponent, so that CPU seconds and GPU milliseconds both read well.

    Example:
        >>> [three_digits(v) for v in (1722.3, 47.49, 5.262, 0.4031)]
        ['1722', '47.5', '5.26', '0.403']
    """
    for limit, decimals in ((100, 0), (10, 1), (1, 2)):
        if abs(value) >= limit:
            return f"{value:.{decimals}f}"
    return f"{value:.3f}"
