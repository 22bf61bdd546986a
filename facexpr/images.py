"""Image input: read files and check arrays, so bad input fails with a clear error, never deep inside OpenCV."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from facexpr.errors import InvalidImageError, InvalidInputError

register_heif_opener()  # phones' HEIC photos open like any other
#: File suffixes read as images when a folder is searched.
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".heic", ".heif", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm", ".ppm"}
)
ColorOrder = Literal["bgr", "rgb"]
ImageInput = str | os.PathLike[str] | np.ndarray | Image.Image


@dataclass(frozen=True)
class Picture:
    """An input picture as the pipeline works on it: a BGR copy, a gray copy, and how to give results back."""

    bgr: np.ndarray  # (H, W, 3) uint8
    gray: np.ndarray  # (H, W) uint8
    order: str  # "bgr" or "rgb": the channel order results are given back in (gray input comes back as BGR)
    alpha: np.ndarray | None = None  # (H, W) uint8 of a 4-channel input, given back as its 4th channel

    def restore(self, bgr: np.ndarray) -> np.ndarray:
        """A BGR picture (e.g. after drawing) in the input's channel order, with its alpha channel if it had one."""
        out = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if self.order == "rgb" else bgr
        return np.dstack([out, self.alpha]) if self.alpha is not None else out


def image_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (recursively) with an image suffix, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file fully (truncated files are an error) as BGR, BGRA or gray uint8, turned upright by its EXIF
    orientation."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: image file not found")
    return decode_image(file, str(file))


def decode_image(source: Path | bytes, name: str) -> np.ndarray:
    """An image file's pixels, from its path or its bytes, as ``read_image`` gives them; errors name ``name``."""
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as image:
            image.load()
            return _from_pil(image)
    except UnidentifiedImageError:
        raise InvalidImageError(f"{name}: not an image file (unrecognised format)") from None
    except Image.DecompressionBombError as error:
        raise InvalidImageError(f"{name}: too many pixels to read safely ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(f"{name}: unreadable or truncated image ({error})") from None


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says (as photo viewers show a phone's photo); itself if it has none."""
    if image.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1):
        return image
    return ImageOps.exif_transpose(image)


def _from_pil(image: Image.Image) -> np.ndarray:
    """A PIL image, turned upright by its EXIF orientation, as an OpenCV-ordered array (gray, BGR or BGRA)."""
    image = upright(image)
    if image.mode.startswith("I;16"):  # 16-bit gray (PNG, TIFF): scaled, not clipped at white
        return to_uint8(np.asarray(image).astype(np.uint16))
    if image.mode in ("I", "F"):  # 32-bit gray: 16-bit values where any exceeds 255, floats as to_uint8 reads them
        array = np.asarray(image)
        if image.mode == "I":
            array = array.astype(np.uint8) if array.max() <= 255 else np.clip(array, 0, 65535).astype(np.uint16)
        return to_uint8(array)
    if image.mode in ("L", "1"):
        return np.asarray(image.convert("L"))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return cv2.cvtColor(np.asarray(image.convert("RGBA")), cv2.COLOR_RGBA2BGRA)
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


def to_uint8(array: np.ndarray) -> np.ndarray:
    """uint8 pixels from uint8, uint16 (scaled) or float (0..1 or 0..255) arrays; anything else is an error."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array // 257).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise InvalidImageError("image contains NaN or infinite values")
        top = float(array.max()) if array.size else 0.0
        scaled = array * 255.0 if top <= 1.0 else array
        if array.min() < 0 or scaled.max() > 255.0 + 1e-6:
            raise InvalidImageError(f"float image values must lie in 0..1 or 0..255, got {array.min():g}..{top:g}")
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    raise InvalidImageError(f"image dtype {array.dtype} is not supported; use uint8, uint16 or float")


def load_picture(image: ImageInput | None, color: ColorOrder = "bgr") -> Picture:
    """Check and convert any accepted input: a path, a NumPy array (BGR/RGB per ``color``, gray, BGRA) or PIL image."""
    if color not in ("bgr", "rgb"):
        raise InvalidInputError(f"color must be 'bgr' or 'rgb', not {color!r}")
    if image is None:
        raise InvalidImageError("image is None; pass a file path, a NumPy array or a PIL image")
    if isinstance(image, (str, os.PathLike)):
        array, channels, order = read_image(image), "bgr", "bgr"
    elif isinstance(image, Image.Image):
        array, channels, order = _from_pil(image), "bgr", "rgb"  # read as BGR, given back as RGB like PIL
    elif isinstance(image, np.ndarray):
        array, channels, order = image, color, color
    else:
        raise InvalidImageError(f"cannot read an image from {type(image).__name__}; pass a path, array or PIL image")
    if array.size == 0:
        raise InvalidImageError(f"image is empty (shape {array.shape})")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3):
        raise InvalidImageError(f"image must be 2-D (gray) or 3-D (H, W, C); got a {array.ndim}-D array {array.shape}")
    if array.ndim == 3 and array.shape[2] not in (3, 4):
        raise InvalidImageError(f"image has {array.shape[2]} channels; expected 1 (gray), 3 (BGR/RGB) or 4 (BGRA)")
    if min(array.shape[:2]) < 2:
        raise InvalidImageError(f"image of {array.shape[1]}x{array.shape[0]} pixels is too small")
    array = to_uint8(array)
    if array.ndim == 2:
        return Picture(cv2.cvtColor(array, cv2.COLOR_GRAY2BGR), np.ascontiguousarray(array), "bgr")
    if array.shape[2] == 4:
        code = cv2.COLOR_RGBA2BGR if channels == "rgb" else cv2.COLOR_BGRA2BGR
        bgr = cv2.cvtColor(array, code)
        return Picture(bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), order, np.ascontiguousarray(array[:, :, 3]))
    bgr = cv2.cvtColor(array, cv2.COLOR_RGB2BGR) if channels == "rgb" else np.ascontiguousarray(array)
    return Picture(bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), order)
