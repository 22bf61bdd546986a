"""Seeded splits by person: a held-out test set of people, then validation people from the rest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupShuffleSplit


@dataclass(frozen=True)
class Split:
    """Indices of the train, validation and test rows; no person appears in two of them."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _group_split(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    keep, held = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(keep), np.sort(held)


def split_by_person(groups: np.ndarray, test_fraction: float = 0.15, val_fraction: float = 0.1, seed: int = 0) -> Split:
    """Hold out ``test_fraction`` of the people, then ``val_fraction`` of the remaining people for validation.

    The test people depend only on ``groups`` and ``seed``, never on the validation setting.
    """
    groups = np.asarray(groups)
    rest, test = _group_split(groups, test_fraction, seed)
    train, val = _group_split(groups[rest], val_fraction, seed + 1)
    return Split(rest[train], rest[val], test)
