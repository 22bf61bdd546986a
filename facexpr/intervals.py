"""Bootstrap intervals over independent groups (people, photos): the ship tests of the keypoint and detection
stages resample whole groups, since one group's faces are alike."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import bootstrap


def group_interval(
    arrays: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """The BCa interval of ``statistic(*arrays, axis=...)`` over per-group ``arrays`` resampled together. Where
    every resample gives the same value (e.g. both detectors find every face) the interval is that value."""
    value = float(statistic(*arrays, axis=-1))
    each = [statistic(*(a[i : i + 1] for a in arrays), axis=-1) for i in range(len(arrays[0]))]
    if np.allclose(each, value):
        return value, value
    interval = bootstrap(
        arrays, statistic, paired=True, vectorized=True, confidence_level=confidence, rng=np.random.default_rng(seed)
    ).confidence_interval
    return float(interval.low), float(interval.high)
