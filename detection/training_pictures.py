"""Training pictures for the CNN face detector: square gray crops of the training photos and frames, each face drawn
at a size between ``smallest_face`` and ``largest_face``, turned, flipped, re-lit, sometimes four to a picture."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm.auto import tqdm

from detection.cnn_config import DetectorConfig
from detection.datasets import BOX_SCALE, BOX_Y_SHIFT, INNER_POINTS, AnnotatedImage
from detection.detectors import box_contains, box_iou
from detection.heatmap import encode
from detection.mtcnn_detector import MTCNNFaceDetector
from facexpr.affine import moved_points
from facexpr.atomic import write_text
from facexpr.datadir import cache_dir
from facexpr.photometric import Photometric
from facexpr.training import ShuffledBatches

#: Faces drawn below this share of ``smallest_face``, or with less than ``MIN_VISIBLE`` of their box inside the
#: picture, are neither faces nor background to the loss: their cells are ignored.
TOO_SMALL = 0.75
MIN_VISIBLE = 0.6
#: Faces drawn under ``context_faces_below`` pixels come from faces at most this share of their photo's shorter side
#: (group photos), so a small face keeps its surroundings instead of being a shrunken portrait framed by a photo edge.
CONTEXT_SHARE = 0.2
#: How bright a shaded face is (``DetectorConfig.shade_prob``) against its picture: between these shares.
SHADE = (0.15, 0.5)
#: The share of training faces shown on a flat grey around their picture; the rest sit on a view of another photo.
FLAT_BACKDROP = 0.25


@dataclass
class SourcePicture:
    """One gray photo or frame with its annotated square face boxes and boxes to ignore (unannotated faces)."""

    gray: np.ndarray
    boxes: np.ndarray  # (N, 4) x, y, side, side
    ignore: np.ndarray  # (M, 4)


def unannotated_faces(images: list[AnnotatedImage]) -> list[np.ndarray]:
    """Per image, the boxes MTCNN finds (on the colour photo) that match no annotated face: faces nobody annotated
    (AFW's small background faces, HELEN's bystanders). Training ignores them rather than call them background.
    Cached by the images' names, MTCNN's settings and the box rule."""
    teacher = MTCNNFaceDetector(min_confidence=0.8, min_size=8)
    rule = [BOX_SCALE, BOX_Y_SHIFT, str(INNER_POINTS)]
    key = hashlib.sha256(json.dumps([teacher.params(), rule, [i.name for i in images]]).encode()).hexdigest()[:16]
    cached = cache_dir() / f"detection-unannotated-{key}.json"
    if cached.is_file():
        return [np.array(boxes, np.float64).reshape(-1, 4) for boxes in json.loads(cached.read_text())]
    found = []
    for image in tqdm(images, desc="finding unannotated faces (MTCNN)", unit="image"):
        colour = image.read(cv2.IMREAD_COLOR)
        annotated = list(zip(image.boxes, image.centres, strict=True))
        extra = [
            d.box
            for d in teacher.detect(cv2.cvtColor(colour, cv2.COLOR_BGR2RGB))
            if not any(box_iou(d.box, tuple(box)) > 0.2 or box_contains(d.box, c) for box, c in annotated)
        ]
        found.append(np.array(extra, np.float64).reshape(-1, 4))
    write_text(cached, json.dumps([boxes.tolist() for boxes in found]))
    return found


def source_pictures(images: list[AnnotatedImage], find_unannotated: bool) -> list[SourcePicture]:
    """Each image read as gray with its face boxes (and, if asked, its unannotated faces to ignore)."""
    grays = [image.read() for image in tqdm(images, desc="reading pictures", unit="image")]
    extras = unannotated_faces(images) if find_unannotated else [np.zeros((0, 4))] * len(images)
    return [SourcePicture(g, image.boxes, extra) for g, image, extra in zip(grays, images, extras, strict=True)]


def shaded(picture: np.ndarray, boxes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``picture`` with its faces (``boxes``) under soft-edged shadows (ellipses or rectangles 1.2-2.5 times the
    face, ``SHADE`` times as bright): backlit faces, darker than the picture around them. As many shadows again, of
    the faces' sizes, fall anywhere: a shadow alone does not make a face."""
    mask = np.zeros(picture.shape, np.float32)
    anywhere = boxes.copy()
    anywhere[:, :2] = rng.uniform(0, picture.shape[1] - anywhere[:, 2:], size=(len(boxes), 2))
    for x, y, w, h in np.vstack([boxes, anywhere]):
        half = np.array([w, h]) * rng.uniform(0.6, 1.25, size=2)
        centre = np.array([x + w / 2.0, y + h / 2.0])
        if rng.random() < 0.5:
            cv2.ellipse(mask, tuple(int(v) for v in centre), tuple(int(v) + 1 for v in half), 0, 0, 360, 1.0, -1)
        else:
            cv2.rectangle(mask, tuple(int(v) for v in centre - half), tuple(int(v) for v in centre + half), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, float(np.median(boxes[:, 2])) * rng.uniform(0.05, 0.3)))
    return picture * (1.0 - (1.0 - rng.uniform(*SHADE)) * mask)


def moved_boxes(boxes: np.ndarray, matrix: np.ndarray, zoom: float) -> np.ndarray:
    """Square boxes after the similarity ``matrix`` (its zoom ``zoom``): centres moved, sides scaled."""
    centres = boxes[:, :2] + boxes[:, 2:] / 2.0
    moved = moved_points(matrix, centres)
    sides = boxes[:, 2:3] * zoom
    return np.hstack([moved - sides / 2.0, sides, sides])


def visible_share(boxes: np.ndarray, size: int) -> np.ndarray:
    """The share of each box's area inside a ``size`` square picture."""
    x0, y0 = np.clip(boxes[:, 0], 0, size), np.clip(boxes[:, 1], 0, size)
    x1, y1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, size), np.clip(boxes[:, 1] + boxes[:, 3], 0, size)
    return (x1 - x0) * (y1 - y0) / np.maximum(boxes[:, 2] * boxes[:, 3], 1e-9)


class TrainingPictures(ShuffledBatches):
    """Batches of (pictures (B, S, S, 1) float32, targets (B, S/stride, S/stride, 5)), ``pictures_per_epoch`` an
    epoch, drawn afresh (seeded by epoch and batch) from the wild photos and the YouTube frames."""

    def __init__(self, wild: list[SourcePicture], youtube: list[SourcePicture], config: DetectorConfig) -> None:
        super().__init__(config.pictures_per_epoch, config.batch_size, config.seed)
        if not wild and not youtube:
            raise ValueError("no training pictures")
        self.wild, self.youtube, self.config = wild, youtube, config
        self.context_faces = [
            (i, j)
            for i, source in enumerate(wild)
            for j, box in enumerate(source.boxes)
            if box[2] <= CONTEXT_SHARE * min(source.gray.shape)
        ]
        self.photometric = Photometric(
            config.brightness, config.contrast, config.blur_prob, config.noise_prob, config.jpeg_prob
        )

    def make_batch(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        size = self.config.picture_size
        pictures, targets = [], []
        for _ in rows:
            picture, boxes, ignore = self.picture(rng)
            pictures.append(picture)
            targets.append(encode(boxes, ignore, size, size, self.config.stride))
        return np.stack(pictures)[..., None], np.stack(targets)

    def picture(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One augmented training picture (S, S) float32, its face boxes and its ignored boxes."""
        size, config = self.config.picture_size, self.config
        if rng.random() < config.mosaic_prob:
            half = size // 2
            picture = np.empty((size, size), np.float32)
            boxes, ignore = [], []
            for top, left in ((0, 0), (0, half), (half, 0), (half, half)):
                tile, tile_boxes, tile_ignore = self.crop(rng, half, 0.9 * half)
                picture[top : top + half, left : left + half] = tile
                boxes.append(tile_boxes + [left, top, 0, 0])
                ignore.append(tile_ignore + [left, top, 0, 0])
            picture, boxes_, ignore_ = picture, np.vstack(boxes), np.vstack(ignore)
        else:
            picture, boxes_, ignore_ = self.crop(rng, size, config.largest_face)
        if rng.random() < config.flip_prob:
            picture = picture[:, ::-1]
            boxes_[:, 0] = size - boxes_[:, 0] - boxes_[:, 2]
            ignore_[:, 0] = size - ignore_[:, 0] - ignore_[:, 2]
        if len(boxes_) and rng.random() < config.shade_prob:
            picture = shaded(picture, boxes_, rng)
        return self.photometric(np.ascontiguousarray(picture), rng), boxes_, ignore_

    def crop(self, rng: np.random.Generator, size: int, largest: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A ``size`` square view of one source picture, one of its faces drawn ``smallest_face``-``largest`` wide
        somewhere in it; returns the view, the boxes of the faces it shows, and the boxes to ignore."""
        config = self.config
        use_youtube = self.youtube and (not self.wild or rng.random() < config.youtube_share)
        pool = self.youtube if use_youtube else self.wild
        source = pool[rng.integers(len(pool))]
        face = source.boxes[rng.integers(len(source.boxes))]
        side = np.exp(rng.uniform(np.log(config.smallest_face), np.log(max(largest, config.smallest_face * 1.01))))
        if not use_youtube and side < config.context_faces_below and self.context_faces:
            picture_index, face_index = self.context_faces[rng.integers(len(self.context_faces))]
            source, face = pool[picture_index], pool[picture_index].boxes[face_index]
        zoom = side / face[2]
        gray, boxes, ignore = source.gray, source.boxes, source.ignore
        if zoom < 0.7:  # shrink by area averaging first: warpAffine alone would alias
            gray = cv2.resize(gray, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
            scale_first = np.array([gray.shape[1] / source.gray.shape[1], gray.shape[0] / source.gray.shape[0]])
            boxes, ignore, face = boxes * np.tile(scale_first, 2), ignore * np.tile(scale_first, 2), face * zoom
            zoom = side / face[2]
        centre = face[:2] + face[2:] / 2.0
        margin = min(side / 2.0, size / 2.0)
        target = rng.uniform(margin * 0.5, size - margin * 0.5, size=2)
        angle = rng.uniform(-config.rotation_deg, config.rotation_deg)
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), float(zoom))
        matrix[:, 2] += target - centre
        view = cv2.warpAffine(gray, matrix, (size, size), flags=cv2.INTER_LINEAR).astype(np.float32)
        shown = cv2.warpAffine(np.ones_like(gray), matrix, (size, size), flags=cv2.INTER_NEAREST).astype(bool)
        backdrop, backdrop_faces = self.backdrop(rng, size)
        view = np.where(shown, view, backdrop)
        moved, moved_ignore = moved_boxes(boxes, matrix, zoom), moved_boxes(ignore, matrix, zoom)
        centres = moved[:, :2] + moved[:, 2:] / 2.0
        inside = np.all((centres >= 0) & (centres < size), axis=1)
        kept = inside & (moved[:, 2] >= TOO_SMALL * config.smallest_face) & (visible_share(moved, size) >= MIN_VISIBLE)
        return view, moved[kept], np.vstack([moved[~kept], moved_ignore, backdrop_faces])

    def backdrop(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """What lies around a face's source picture: a flat grey (``FLAT_BACKDROP`` of the time), else a random view
        of a wild photo, whose faces are ignored (a face pasted on a busy scene, not on a blank page)."""
        if not self.wild or rng.random() < FLAT_BACKDROP:
            return np.full((size, size), rng.uniform(0, 255), np.float32), np.zeros((0, 4))
        source = self.wild[rng.integers(len(self.wild))]
        height, width = source.gray.shape
        zoom = size / min(height, width) * rng.uniform(1.0, 2.0)
        matrix = np.array([[zoom, 0.0, 0.0], [0.0, zoom, 0.0]])
        matrix[:, 2] = -rng.uniform(0, [width * zoom - size, height * zoom - size])
        view = cv2.warpAffine(source.gray, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return view.astype(np.float32), np.vstack([moved_boxes(b, matrix, zoom) for b in (source.boxes, source.ignore)])
