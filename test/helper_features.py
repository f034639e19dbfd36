"""Feature helpers in their own module, as a user keeps them beside a notebook; the
inlined-helper tests (``test/differential/test_inlined_helpers.py``) call them. Their
globals (``RATIO_COLS``, ``SCALE``) are this module's, not the caller's."""

from __future__ import annotations

import numpy as np
import pandas as pd

RATIO_COLS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "ratio"]
SCALE = 1000.0


def with_ratio(d: pd.DataFrame) -> pd.DataFrame:
    """The frame with a bill ratio column, selected to ``RATIO_COLS``."""
    d = d.copy()
    d["ratio"] = d["bill_length_mm"] / d["bill_depth_mm"]
    return d[RATIO_COLS].fillna(0)


def mass_kg(d: pd.DataFrame, scale: float = SCALE) -> pd.Series:
    """Body mass in kg (a default read from this module's globals)."""
    return np.log1p(d["body_mass_g"].fillna(0) / scale)
