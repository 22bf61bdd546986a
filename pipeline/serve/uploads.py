"""Uploads as the server takes them: size and pixel limits, pictures read from memory, errors that name the problem."""

from __future__ import annotations

import io
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from facexpr.errors import InvalidImageError, InvalidInputError
from facexpr.images import upright

#: Room in a request beyond the file itself for the multipart headers and boundaries.
MULTIPART_ALLOWANCE = 64 * 1024
_CHUNK = 1024 * 1024


class UploadTooLargeError(InvalidInputError):
    """An upload over the server's size or pixel limit (HTTP 413)."""


class UnsupportedUploadError(InvalidInputError):
    """An upload that is not a picture (or, for videos, a video) the server can read (HTTP 415)."""


@dataclass(frozen=True)
class Limits:
    """What the server takes: files of at most ``max_bytes`` and pictures or video frames of at most ``max_pixels``."""

    max_bytes: int = 20_000_000
    max_pixels: int = 25_000_000

    @classmethod
    def of(cls, max_upload_mb: float, max_megapixels: float) -> Limits:
        """Limits from the command line's units, checked."""
        if max_upload_mb <= 0 or max_megapixels <= 0:
            raise InvalidInputError(
                f"--max-upload-mb and --max-megapixels must be positive, got {max_upload_mb} and {max_megapixels}"
            )
        return cls(int(max_upload_mb * 1_000_000), int(max_megapixels * 1_000_000))

    @property
    def max_request_bytes(self) -> int:
        """The largest request body accepted: the file limit plus the multipart framing."""
        return self.max_bytes + MULTIPART_ALLOWANCE

    def too_large(self, size: int, name: str) -> UploadTooLargeError:
        """The error for an upload of ``size`` bytes."""
        return UploadTooLargeError(
            f"{name}: {size / 1e6:.1f} MB is over this server's limit of {self.max_bytes / 1e6:g} MB (--max-upload-mb)"
        )

    def check_pixels(self, width: int, height: int, name: str) -> None:
        """Raise ``UploadTooLargeError`` for a picture or frame over the pixel limit."""
        if width * height > self.max_pixels:
            raise UploadTooLargeError(
                f"{name}: {width}x{height} is {width * height / 1e6:.1f} megapixels, over this server's limit of "
                f"{self.max_pixels / 1e6:g} (--max-megapixels)"
            )


def display_name(filename: str | None) -> str:
    """The client's file name, reduced to a plain label (never used as a path): its last part, printable, short."""
    last = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    label = re.sub(r"[^\w.\- ]", "_", last).strip(" .")[:120]
    return label or "upload"


def read_upload(file: BinaryIO, limits: Limits, name: str) -> bytes:
    """The whole upload, or ``UploadTooLargeError`` once it passes the size limit."""
    data = file.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        file.seek(0, io.SEEK_END)
        raise limits.too_large(file.tell(), name)
    return data


def save_upload(file: BinaryIO, target: Path, limits: Limits, name: str) -> Path:
    """Copy the upload to ``target`` (a server-made path), or ``UploadTooLargeError`` once it passes the size limit."""
    with open(target, "wb") as out:
        shutil.copyfileobj(file, out, _CHUNK)
        size = out.tell()
    if size > limits.max_bytes:
        target.unlink()
        raise limits.too_large(size, name)
    return target


def open_picture(data: bytes, limits: Limits, name: str) -> Image.Image:
    """The uploaded picture, fully decoded and turned upright (its EXIF orientation applied, as browsers show it).

    Not a picture: ``UnsupportedUploadError``; over the pixel limit (checked from the header, before decoding):
    ``UploadTooLargeError``; truncated or corrupt: ``InvalidImageError``.
    """
    if not data:
        raise InvalidImageError(f"{name}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UnsupportedUploadError(
            f"{name}: not a picture this server reads (send a JPEG, PNG, HEIC, WebP, BMP, GIF or TIFF file)"
        ) from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise UploadTooLargeError(f"{name}: {error}") from None
    limits.check_pixels(*image.size, name)
    try:
        image.load()
        return upright(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(f"{name}: unreadable or truncated picture ({error})") from None
