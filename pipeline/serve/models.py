"""The server's one set of models, shared by every request and video job, whose reads take turns."""

from __future__ import annotations

import threading

import numpy as np

from pipeline.annotator import Annotator
from pipeline.faces import Face


class SharedAnnotator(Annotator):
    """``base``'s detector and models behind one lock: a read (detection and both networks) runs alone.

    The Haar cascade and the networks are not documented as safe to call from several threads at once, and on 2 cores
    running reads side by side would not make them faster. ``with_detector`` copies (a video job's tracking detector)
    share the lock, so a video's frames take turns with the photos sent meanwhile.
    """

    def __init__(self, base: Annotator) -> None:
        super().__init__(
            detector=base.detector, keypoint_model=base.keypoint_model, expression_model=base.expression_model
        )
        self.lock = threading.Lock()

    def read(self, gray: np.ndarray) -> list[Face]:
        with self.lock:
            return super().read(gray)
