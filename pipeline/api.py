"""``annotate``: one call from a picture to its faces, keypoints, expressions and the drawn picture."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import expressions
import keypoints
from detection.choice import DEFAULT_DETECTOR, get_detector
from expressions.views import SINGLE_SCALE
from facexpr.images import ColorOrder, ImageInput, load_picture
from pipeline.annotator import Annotator
from pipeline.draw import draw as draw_faces
from pipeline.result import AnnotationResult


def default_annotator(
    preset: str = "fer5",
    expression_model: str | None = None,
    keypoint_model: str | None = None,
    tta: bool = True,
    scales: Sequence[float] = SINGLE_SCALE,
    abstain: bool = True,
    detector: str = DEFAULT_DETECTOR,
    max_side: int | None = None,
) -> Annotator:
    """The ``detector`` (by name) with the shipped models, or with the ``.keras`` files given, built once per
    combination.

    ``tta=False`` has both models read each face once instead of averaging it with its mirror image; ``scales`` has
    the expression model read each face at those zooms too (``expressions.views.MULTISCALE``); ``abstain=False``
    names one of the preset's classes for every face, even one that shows none of them (label ``None`` by default);
    ``max_side`` (``cnn`` and ``haar``) reads pictures larger than that reduced to it (default 640; 1280 finds more
    of a large group photo's small faces, at more false alarms on large textures).
    """
    return _cached_annotator(preset, expression_model, keypoint_model, tta, tuple(scales), abstain, detector, max_side)


@functools.lru_cache(maxsize=4)
def _cached_annotator(
    preset: str,
    expression_model: str | None,
    keypoint_model: str | None,
    tta: bool,
    scales: tuple[float, ...],
    abstain: bool,
    detector: str,
    max_side: int | None,
) -> Annotator:
    return Annotator(
        detector=get_detector(detector, **({} if max_side is None else {"max_side": max_side})),
        keypoint_model=keypoints.load_model(keypoint_model, tta=tta),
        expression_model=expressions.load_model(preset, expression_model, tta=tta, scales=scales, abstain=abstain),
    )


def annotate(
    image: ImageInput,
    *,
    preset: str = "fer5",
    draw: bool = True,
    color: ColorOrder = "bgr",
    annotator: Annotator | None = None,
    abstain: bool = True,
    detector: str = DEFAULT_DETECTOR,
    max_side: int | None = None,
) -> AnnotationResult:
    """Find every face in ``image`` and read its keypoints and expression (label ``None`` for a face that shows
    none of the preset's classes, unless ``abstain=False``); ``detector`` names the face detector
    (``detection.DETECTORS``), which reads pictures larger than ``max_side`` reduced to it (``default_annotator``).

    ``image`` is a file path, a NumPy array (BGR as OpenCV reads it, or RGB with ``color="rgb"``; gray; BGRA) or a
    PIL image. A picture with no face gives an empty ``faces`` list. The drawn picture comes back in the input's
    colour order (gray input comes back as BGR, so the drawing keeps its colours).
    """
    picture = load_picture(image, color)
    reader = annotator or default_annotator(preset, abstain=abstain, detector=detector, max_side=max_side)
    faces = reader.read(picture.gray)
    drawn = picture.restore(draw_faces(picture.bgr, faces)) if draw else None
    source = str(image) if isinstance(image, (str, os.PathLike)) else None
    return AnnotationResult(faces, drawn, reader.expression_model.classes, picture.order, source)
