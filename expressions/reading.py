"""How a shipped expression model reads beyond its network: the temperature that calibrates its confidence, and
when it gives no label (a face showing none of the preset's classes). Fitted on PublicTest by
``facexpr expressions calibrate`` and stored beside the weights as ``<preset>.reading.json``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facexpr.atomic import write_json
from facexpr.errors import InvalidInputError

#: What a face without a label is drawn and written as.
NO_LABEL = "neutral / other"


@dataclass(frozen=True)
class Reading:
    """``temperature`` scales the log-probabilities (1: as the network reads); a face whose seven-class probability
    of ``abstain_class`` exceeds ``abstain_threshold`` gets no label (``None``: never abstain). With
    ``abstain_both_framings`` that probability is the mean over the face aligned by its eyes and the face as framed
    (the crop of the detector's box), where a caller has both. ``abstain_network`` names the seven-class LiteRT file
    beside the weights that reads it (``None``: the one serving the seven-class preset)."""

    temperature: float = 1.0
    abstain_class: str | None = None
    abstain_threshold: float = 1.0
    abstain_both_framings: bool = False
    abstain_network: str | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Reading:
        """The reading saved at ``path``, else the network's own (no calibration, no abstention)."""
        file = Path(path)
        if not file.is_file():
            return cls()
        saved = json.loads(file.read_text())
        return cls(
            saved["temperature"],
            saved.get("abstain_class"),
            saved.get("abstain_threshold", 1.0),
            saved.get("abstain_both_framings", False),
            saved.get("abstain_network"),
        )

    def save(self, path: str | os.PathLike[str], **evidence: Any) -> Path:
        """Write the reading with ``evidence`` (where and how it was fitted, what it measured there)."""
        return write_json(path, {**asdict(self), **evidence})


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(p) / T)`` row by row: the same ranking of classes, confidence sharpened (T < 1) or softened."""
    if temperature <= 0:
        raise InvalidInputError(f"temperature must be > 0, not {temperature}")
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)
