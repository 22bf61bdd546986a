"""A dull picture (dark, washed out, hazy) or a dull face in a bright one (backlit) is stretched and a grainy picture
smoothed before it is read; a clean one is left as it is."""

from __future__ import annotations

import cv2
import numpy as np

from detection.detectors import Detection
from facexpr.crop import KEYPOINT_CROP
from facexpr.exposure import MIN_SPAN, grey_span, stretch_dull
from facexpr.grain import GRAIN_LIMIT, noise_sd, smooth_grain
from pipeline import annotate
from pipeline.annotator import face_crops
from pipeline.api import default_annotator
from pipeline.sample import sample_photo


def sample_gray() -> np.ndarray:
    return cv2.cvtColor(sample_photo(), cv2.COLOR_BGR2GRAY)


def test_a_well_exposed_photo_is_left_as_it_is() -> None:
    gray = sample_gray()
    low, high = grey_span(gray)
    assert high - low >= MIN_SPAN and (low, high) == tuple(int(v) for v in np.percentile(gray, [0.1, 99.9]))
    assert stretch_dull(gray) is gray
    # a small photo on a flat background (a scan, a slide) keeps its own grey levels
    canvas = np.full((3000, 4000), 110, np.uint8)
    canvas[1000 : 1000 + gray.shape[0], 1500 : 1500 + gray.shape[1]] = gray
    assert stretch_dull(canvas) is canvas


def test_a_darkened_or_washed_out_photo_gets_its_grey_levels_back() -> None:
    gray = sample_gray()
    for dull in ((gray * 0.3).astype(np.uint8), (255 - (255 - gray.astype(np.float32)) * 0.3).astype(np.uint8)):
        assert grey_span(dull)[1] - grey_span(dull)[0] < MIN_SPAN
        stretched = stretch_dull(dull)
        assert grey_span(stretched) == (0, 255)
        # a linear dimming undone: the picture's own grey levels come back, up to clipping and rounding
        order = np.corrcoef(stretched.ravel().astype(float), gray.ravel().astype(float))[0, 1]
        assert order > 0.99


def test_the_pipeline_reads_a_dark_photo_as_the_photo_itself() -> None:
    annotator = default_annotator()
    clean = annotate(sample_photo(), annotator=annotator).faces
    dark = annotate((sample_photo() * 0.2).astype(np.uint8), annotator=annotator).faces
    assert len(dark) == len(clean) == 1  # read as it is, the dark photo also gets a box on the suit
    assert np.allclose(dark[0].box, clean[0].box, atol=2) and dark[0].label == clean[0].label
    assert np.abs(dark[0].keypoints - clean[0].keypoints).max() < 2.0


def noisy(gray: np.ndarray, sd: float) -> np.ndarray:
    return np.clip(gray + np.random.default_rng(1).normal(0.0, sd, gray.shape), 0, 255).astype(np.uint8)


def test_grain_is_estimated_and_only_a_grainy_photo_is_smoothed() -> None:
    gray = sample_gray()
    assert noise_sd(gray) < GRAIN_LIMIT / 2 and smooth_grain(gray) is gray
    for sd in (15.0, 25.0):
        grainy = noisy(gray, sd)
        assert abs(noise_sd(grainy) - sd) < 0.15 * sd  # clipping at black and white hides a little of it
        assert noise_sd(smooth_grain(grainy)) < sd / 3


def test_the_pipeline_finds_the_face_of_a_grainy_photo() -> None:
    annotator = default_annotator()
    clean = annotate(sample_photo(), annotator=annotator).faces
    grainy = cv2.cvtColor(noisy(sample_gray(), 25.0), cv2.COLOR_GRAY2BGR)
    assert not annotator.detector.detect(noisy(sample_gray(), 25.0))  # read as it is, the face is lost in the grain
    faces = annotate(grainy, annotator=annotator).faces
    assert len(faces) == 1 and np.allclose(faces[0].box, clean[0].box, atol=6) and faces[0].label == clean[0].label


def shaded(photo: np.ndarray, box: tuple[float, ...], factor: float) -> np.ndarray:
    """``photo`` with a soft-edged shadow, ``factor`` times as bright, over twice ``box``: a backlit face."""
    x, y, w, h = (int(v) for v in box)
    shade = np.ones(photo.shape[:2], np.float32)
    shade[max(0, y - h // 2) : y + 3 * h // 2, max(0, x - w // 2) : x + 3 * w // 2] = factor
    return (photo * cv2.GaussianBlur(shade, (0, 0), 3)[..., None]).astype(np.uint8)


def test_a_dull_face_in_a_bright_photo_is_stretched_and_read_as_the_photo_itself() -> None:
    annotator = default_annotator()
    clean = annotate(sample_photo(), annotator=annotator).faces[0]
    plain = KEYPOINT_CROP.crop(sample_gray(), clean.box)[0]
    assert np.array_equal(face_crops(sample_gray(), [Detection(clean.box, 1.0)]).keypoint[0], plain)  # left alone
    backlit = shaded(sample_photo(), clean.box, 0.2)
    gray = cv2.cvtColor(backlit, cv2.COLOR_BGR2GRAY)
    assert stretch_dull(gray) is gray  # the picture itself is not dull: its background is as bright as ever
    low, high = grey_span(KEYPOINT_CROP.crop(gray, clean.box)[0])
    stretched = face_crops(gray, [Detection(clean.box, 1.0)]).keypoint[0]
    assert high - low < MIN_SPAN and np.subtract(*grey_span(stretched)[::-1]) > 2 * MIN_SPAN
    faces = annotate(backlit, annotator=annotator).faces
    assert len(faces) == 1 and faces[0].label == clean.label
    assert np.abs(faces[0].keypoints - clean.keypoints).mean() < 0.5  # read as it is: 0.74 px from the photo's points
