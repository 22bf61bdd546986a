"""Video detection: a full search every N frames, faces followed near their last box in between."""

from __future__ import annotations

import cv2
import numpy as np

from detection.detectors import HaarFaceDetector, box_iou
from pipeline.sample import sample_frame
from pipeline.tracking import TrackingDetector


class CountingHaar(HaarFaceDetector):
    """The Haar detector, counting its full-frame searches."""

    full_searches = 0

    def detect(self, gray: np.ndarray) -> list:
        self.full_searches += 1
        return super().detect(gray)


def drifting_frames(count: int) -> list[np.ndarray]:
    return [cv2.cvtColor(np.roll(sample_frame(), 4 * i, axis=1), cv2.COLOR_BGR2GRAY) for i in range(count)]


def test_detect_near_finds_the_moved_face_like_a_full_search() -> None:
    detector = HaarFaceDetector()
    first, moved = drifting_frames(1)[0], np.roll(drifting_frames(1)[0], 12, axis=1)
    start = detector.detect(first)[0]
    near = detector.detect_near(moved, start.box)
    full = detector.detect(moved)[0]
    assert near is not None and box_iou(near.box, full.box) > 0.8
    assert near.box[0] > start.box[0] + 6  # it followed the face to the right
    assert detector.detect_near(np.zeros_like(first), start.box) is None


def test_tracking_searches_the_whole_frame_every_n_frames() -> None:
    counting = CountingHaar()
    tracker = TrackingDetector(counting, every=5)
    reference = HaarFaceDetector()
    for gray in drifting_frames(12):
        tracked, full = tracker.detect(gray), reference.detect(gray)
        assert len(tracked) == len(full) == 1
        assert box_iou(tracked[0].box, full[0].box) > 0.7
    assert counting.full_searches == 3  # frames 0, 5 and 10


def test_a_lost_face_brings_a_full_search_at_once() -> None:
    counting = CountingHaar()
    tracker = TrackingDetector(counting, every=100)
    frames = drifting_frames(2)
    assert len(tracker.detect(frames[0])) == 1 and counting.full_searches == 1
    assert tracker.detect(np.zeros_like(frames[0])) == [] and counting.full_searches == 2  # lost: searched again
    assert len(tracker.detect(frames[1])) == 1 and counting.full_searches == 3  # nothing to follow: full search
    assert len(tracker.detect(frames[1])) == 1 and counting.full_searches == 3  # followed
