"""Photometric jitter of training pictures: JPEG compression leaves a real face's blocks and ringing, nothing else."""

from __future__ import annotations

import cv2
import numpy as np

from facexpr.photometric import Photometric
from pipeline.sample import sample_photo


def test_jpeg_compression_blocks_a_real_face_and_keeps_its_grey_levels() -> None:
    face = cv2.cvtColor(sample_photo(), cv2.COLOR_BGR2GRAY)[40:200, 160:320]
    still = Photometric(brightness=0.0, contrast=0.0, blur_prob=0.0, noise_prob=0.0)
    assert np.array_equal(still(face, np.random.default_rng(0)), face.astype(np.float32))
    compressed = Photometric(brightness=0.0, contrast=0.0, blur_prob=0.0, noise_prob=0.0, jpeg_prob=1.0)
    out = compressed(face, np.random.default_rng(0))
    assert out.dtype == np.float32 and out.shape == face.shape and np.array_equal(out, np.round(out))
    error = np.abs(out - face.astype(np.float32))
    assert 0.5 < error.mean() < 8.0  # changed, as JPEG at quality 15-60 changes a face, but still the same face
    # the 8x8 blocks show: the jump across block edges exceeds the jump inside blocks
    columns = np.abs(np.diff(out, axis=1)) - np.abs(np.diff(face.astype(np.float32), axis=1))
    assert columns[:, 7::8].mean() > columns[:, 3::8].mean()
