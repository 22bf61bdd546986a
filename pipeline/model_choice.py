"""Which models read the faces, as plain settings: a cluster worker rebuilds the annotator from them."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from detection.choice import DEFAULT_DETECTOR
from expressions.presets import DEFAULT_PRESET, get_preset
from expressions.views import SINGLE_SCALE

if TYPE_CHECKING:
    from pipeline.annotator import Annotator


@dataclass(frozen=True)
class ModelChoice:
    """The arguments of ``default_annotator``: preset, optional ``.keras`` files, mirror averaging, expression zooms,
    whether a face that shows none of the preset's classes gets no label, the face detector's name and the longer
    side it reads large pictures at (None: its default)."""

    preset: str = DEFAULT_PRESET
    expression_model: str | None = None
    keypoint_model: str | None = None
    tta: bool = True
    scales: tuple[float, ...] = SINGLE_SCALE
    abstain: bool = True
    detector: str = DEFAULT_DETECTOR
    max_side: int | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        """The expression classes the faces are read as (the probability columns), known without loading a model."""
        return get_preset(self.preset).classes

    def annotator(self) -> Annotator:
        """The annotator these settings describe, built once per process."""
        from pipeline.api import default_annotator

        return default_annotator(
            self.preset,
            self.expression_model,
            self.keypoint_model,
            self.tta,
            self.scales,
            self.abstain,
            self.detector,
            self.max_side,
        )

    def portable(self) -> ModelChoice:
        """The same choice with its model files as absolute paths: each worker of a cluster finds them at that path
        (a shared mount, or the same files on every machine), whatever folder it runs in."""
        files = {"expression_model": self.expression_model, "keypoint_model": self.keypoint_model}
        return replace(self, **{key: os.path.abspath(path) for key, path in files.items() if path is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (recorded beside a collection's output, so a rerun cannot mix models)."""
        return {**asdict(self), "scales": list(self.scales)}
