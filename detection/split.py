"""The seeded held-out part of each detection set: whole photos (wild-faces-68) or whole people (YouTube-Faces)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from detection.datasets import AnnotatedImage
from facexpr.errors import InvalidInputError

#: The share of groups (photos or people) held out, and the seed that draws them.
HELDOUT_SHARE = 0.15
SPLIT_SEED = 0
#: What ``--part`` accepts: the held-out groups, or every image.
PARTS = ("test", "all")


def heldout_groups(groups: list[str], share: float = HELDOUT_SHARE, seed: int = SPLIT_SEED) -> set[str]:
    """The groups drawn for the held-out part; depends only on the set of groups, ``share`` and ``seed``.

    For YouTube-Faces these are the keypoint stage's held-out test people (the same splitter, share and seed).
    """
    splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    _, held = next(splitter.split(np.zeros(len(groups)), groups=np.asarray(groups)))
    return {groups[i] for i in held}


def select_part(images: list[AnnotatedImage], part: str) -> list[AnnotatedImage]:
    """The images of ``part``: ``test`` (held-out photos or people) or ``all``."""
    if part not in PARTS:
        raise InvalidInputError(f"unknown part {part!r}; choose from {list(PARTS)}")
    if part == "all":
        return images
    held = heldout_groups([image.group for image in images])
    return [image for image in images if image.group in held]
