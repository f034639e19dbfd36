"""Values for differential tests of tree models (importable: ``test/`` is on pytest's path)."""

from __future__ import annotations

import numpy as np


def around_threshold(t: float) -> list[float]:
    """The values where routing at threshold ``t`` can differ between precisions: ``t`` and
    one float64 ulp either side, ``float32(t)`` and one float32 ulp either side."""
    t32 = np.float32(t)
    return [
        float(t),
        float(np.nextafter(t, -np.inf)),
        float(np.nextafter(t, np.inf)),
        float(t32),
        float(np.nextafter(t32, np.float32(-np.inf))),
        float(np.nextafter(t32, np.float32(np.inf))),
    ]


def odd_categories(words: int) -> np.ndarray:
    """Values for a categorical column with bitsets of up to ``words`` 32-bit words: every
    code and a few past them, fractions at each word boundary, -0.0 and small negatives
    (category 0 when truncated), values beyond int64, ±infinity and NaN."""
    boundaries = [32.0 * w + d for w in range(words + 1) for d in (-0.5, 0.5)]
    return np.array([
        *np.arange(-3.0, 32 * words + 3), *boundaries, -0.0, -0.5, -0.999, 5e-324, 2.0**31,
        2.0**32, 2.0**32 + 3, 2.0**63, -(2.0**63), 2.0**64, 1e19, 1e300, -1e300, np.inf,
        -np.inf, np.nan,
    ])  # fmt: skip
