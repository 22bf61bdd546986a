"""Large pictures for ``facexpr detect evaluate``: a part's photos tiled into pictures the size of a phone's group
photo or an HD frame, whose faces keep their detail (the annotated photos are all 512 px)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from detection.datasets import AnnotatedImage

#: The side of each tile (the photos' own size).
TILE = 512
#: Grids (columns, rows): 2048x1536 and 4096x3072 pictures.
GRIDS = ((4, 3), (8, 6))


def tiled_pictures(
    images: list[AnnotatedImage], cols: int, rows: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Gray pictures of ``cols`` x ``rows`` photos each (in order; a last incomplete one is left out), with their
    faces' landmark boxes (N, 4) and centres (N, 2) in the picture's pixels."""
    per = cols * rows
    for start in range(0, len(images) - per + 1, per):
        canvas = np.zeros((rows * TILE, cols * TILE), np.uint8)
        boxes, centres = [], []
        for k, image in enumerate(images[start : start + per]):
            gray = image.read()[:TILE, :TILE]
            y, x = divmod(k, cols)
            canvas[y * TILE : y * TILE + gray.shape[0], x * TILE : x * TILE + gray.shape[1]] = gray
            boxes.append(image.boxes + [x * TILE, y * TILE, 0, 0])
            centres.append(image.centres + [x * TILE, y * TILE])
        yield canvas, np.vstack(boxes), np.vstack(centres)
