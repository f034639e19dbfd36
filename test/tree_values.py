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
