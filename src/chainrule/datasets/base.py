"""What every reader of data sets returns: a :class:`Dataset`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["STDIN", "Dataset"]

#: how standard input is named on the command line
STDIN = "-"


@dataclass
class Dataset:
    """Features ``X``, targets ``y`` and where they came from (dask arrays for a folder)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    feature_names: list[str] = field(default_factory=list)
    target_name: str = "target"
