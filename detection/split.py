"""The seeded parts of each detection set, by whole photos (wild-faces-68) or whole people (YouTube-Faces): the
held-out test part, and the validation part of the rest that detector runs choose checkpoints and thresholds on."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from detection.datasets import AnnotatedImage
from facexpr.errors import InvalidInputError

#: The share of groups (photos or people) held out, and the seed that draws them.
HELDOUT_SHARE = 0.15
SPLIT_SEED = 0
#: The share of the remaining groups set aside for validation, by default.
VAL_SHARE = 0.1
#: What ``--part`` accepts: the held-out groups, the validation groups (default share and seed), or every image.
PARTS = ("test", "val", "all")


def heldout_groups(groups: list[str], share: float = HELDOUT_SHARE, seed: int = SPLIT_SEED) -> set[str]:
    """The groups drawn for the held-out part; depends only on the set of groups, ``share`` and ``seed``.

    For YouTube-Faces these are the keypoint stage's held-out test people (the same splitter, share and seed).
    """
    splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    _, held = next(splitter.split(np.zeros(len(groups)), groups=np.asarray(groups)))
    return {groups[i] for i in held}


def split_groups(groups: list[str], val_share: float = VAL_SHARE, seed: int = SPLIT_SEED) -> tuple[set[str], set[str]]:
    """(test, validation): the held-out groups, and those of the rest that a run with ``val_share`` and ``seed`` keeps
    aside."""
    test = heldout_groups(groups)
    rest = [group for group in groups if group not in test]
    return test, (heldout_groups(rest, val_share, seed + 1) if val_share and len(set(rest)) > 1 else set())


def validation_groups(groups: list[str], share: float = VAL_SHARE, seed: int = SPLIT_SEED) -> set[str]:
    """The groups, of those not held out for test, that a run with ``val_share`` ``share`` and ``seed`` keeps aside."""
    return split_groups(groups, share, seed)[1]


def select_part(images: list[AnnotatedImage], part: str) -> list[AnnotatedImage]:
    """The images of ``part``: ``test`` (held-out photos or people), ``val`` (validation ones) or ``all``."""
    if part not in PARTS:
        raise InvalidInputError(f"unknown part {part!r}; choose from {list(PARTS)}")
    if part == "all":
        return images
    groups = [image.group for image in images]
    held = heldout_groups(groups) if part == "test" else validation_groups(groups)
    return [image for image in images if image.group in held]
