"""Loaders for FER2013 (``fer2013.csv``, plain or gzipped) and the FER+ majority-vote labels, validated by row."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from expressions.eyes import fer_eyes
from expressions.presets import FER2013_CLASSES, FERPLUS_COLUMNS, LABEL_SOURCES, USAGES
from facexpr.alignment import align_faces
from facexpr.atomic import write_atomic
from facexpr.checksum import sha256_file
from facexpr.datadir import FER2013, FERPLUS, cache_dir, dataset_file
from facexpr.errors import DataFormatError, InvalidInputError
from facexpr.rows import OnError, parse_pixels, report_bad_rows

FER_SIZE = 48
FER_COLUMNS = ("emotion", "pixels", "Usage")
#: FER+ vote columns in FER2013's class order.
VOTE_COLUMNS = [FERPLUS_COLUMNS[c] for c in FER2013_CLASSES]


@dataclass
class ExpressionSamples:
    """48x48 gray faces with FER2013 labels (0..6), their split and their row in the source file."""

    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) FER2013 label
    usage: np.ndarray  # (N,) Training / PublicTest / PrivateTest
    rows: np.ndarray  # (N,) 0-based data row in the CSV
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> ExpressionSamples:
        """The samples where ``mask`` (bool or index array) selects."""
        return ExpressionSamples(self.images[mask], self.labels[mask], self.usage[mask], self.rows[mask], self.skipped)

    def split(self, usage: str) -> ExpressionSamples:
        """Only the rows of one Usage split."""
        if usage not in USAGES:
            raise InvalidInputError(f"unknown split {usage!r}; FER2013 has {', '.join(USAGES)}")
        return self.subset(self.usage == usage)

    def class_counts(self) -> pd.DataFrame:
        """Faces per FER2013 class (rows) and split (columns)."""
        return pd.crosstab(
            pd.Categorical(np.asarray(FER2013_CLASSES)[self.labels], categories=FER2013_CLASSES),
            pd.Categorical(self.usage, categories=USAGES),
            rownames=["class"],
            colnames=["split"],
            dropna=False,
        )


def parse_fer_table(table: pd.DataFrame, source: Path | str, on_error: OnError = "raise") -> ExpressionSamples:
    """Validate and parse a FER2013 table; bad rows are reported by line number (raise, or skip and count)."""
    missing = [c for c in FER_COLUMNS if c not in table.columns]
    if missing:
        raise DataFormatError(f"{source}: missing column(s) {', '.join(missing)} (expected emotion,pixels,Usage)")
    labels = pd.to_numeric(table["emotion"], errors="coerce").to_numpy(np.float64)
    images, kept, problems = [], [], []
    for row, (label, pixels, usage) in enumerate(zip(labels, table["pixels"], table["Usage"], strict=True)):
        where = f"line {row + 2}"
        if not (np.isfinite(label) and label == int(label) and 0 <= label < len(FER2013_CLASSES)):
            problems.append(f"{where}: unknown emotion label {table['emotion'].iloc[row]!r} (expected 0..6)")
            continue
        if usage not in USAGES:
            problems.append(f"{where}: unknown Usage {usage!r}")
            continue
        try:
            images.append(parse_pixels(pixels, FER_SIZE * FER_SIZE).reshape(FER_SIZE, FER_SIZE))
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        kept.append(row)
    skipped = report_bad_rows(problems, source, on_error)
    rows = np.array(kept, dtype=np.int64)
    return ExpressionSamples(
        np.stack(images) if images else np.zeros((0, FER_SIZE, FER_SIZE), np.uint8),
        labels[rows].astype(np.int64),
        table["Usage"].to_numpy(str)[rows],
        rows,
        skipped,
    )


def read_fer_csv(path: Path) -> pd.DataFrame:
    """The raw FER2013 table (gzip is read directly), all columns as text for validation."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise DataFormatError(f"{path}: not a readable FER2013 CSV ({error})") from error


def load_fer2013(
    path: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    on_error: OnError = "raise",
    labels: str = "fer2013",
    aligned: bool = False,
) -> ExpressionSamples:
    """FER2013 faces and labels (``labels``, one of ``LABEL_SOURCES``): 'fer2013' as given; 'ferplus' swaps in FER+
    majority votes (rows without one dropped); 'agreed' keeps the faces whose FER+ majority names their FER2013 label.
    ``aligned`` turns each face by its cached eye centres (``expressions.eyes``), as aligned networks read faces.

    Parsed arrays are cached by the file's SHA-256, so only the first load parses 35,887 pixel strings.
    """
    csv_path = Path(path) if path is not None else dataset_file(FER2013, data_dir)
    if not csv_path.is_file():
        raise FileNotFoundError(f"FER2013 CSV not found: {csv_path}")
    key = hashlib.sha256(f"{sha256_file(csv_path)}:{on_error}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"fer2013-{key}.npz"
    if cached.is_file():
        with np.load(cached) as arrays:
            samples = ExpressionSamples(*(arrays[k] for k in ("images", "labels", "usage", "rows")))
    else:
        samples = parse_fer_table(read_fer_csv(csv_path), csv_path, on_error)
        write_atomic(
            cached,
            lambda tmp: np.savez(
                tmp, images=samples.images, labels=samples.labels, usage=samples.usage, rows=samples.rows
            ),
        )
    if aligned:
        samples.images = align_faces(samples.images, fer_eyes(csv_path, samples.rows, samples.images))
    if labels == "fer2013":
        return samples
    if labels == "ferplus":
        return with_ferplus_labels(samples, dataset_file(FERPLUS, data_dir))
    if labels == "agreed":
        return agreed_with_ferplus(samples, dataset_file(FERPLUS, data_dir))
    raise InvalidInputError(f"labels must be one of {', '.join(LABEL_SOURCES)}, not {labels!r}")


def ferplus_votes(ferplus_csv: Path, rows: np.ndarray) -> np.ndarray:
    """(N, 7) FER+ vote counts, in FER2013's class order, of the given fer2013.csv rows (aligned row for row)."""
    votes = pd.read_csv(ferplus_csv)
    return votes[VOTE_COLUMNS].to_numpy(np.float32)[rows]


def ferplus_majority(votes: pd.DataFrame) -> np.ndarray:
    """FER2013-numbered label of each FER+ row by strict majority of its votes, or -1 (tie, contempt, unknown, NF)."""
    counts = votes[VOTE_COLUMNS + ["contempt", "unknown", "NF"]].to_numpy(np.float64)
    best = counts.argmax(axis=1)
    top = counts.max(axis=1)
    unique = (counts == top[:, None]).sum(axis=1) == 1
    return np.where(unique & (best < len(FER2013_CLASSES)) & (top > 0), best, -1)


def majority_of(samples: ExpressionSamples, ferplus_csv: Path) -> np.ndarray:
    """Each face's FER+ majority label or -1 (``ferplus_majority``); the file aligns row for row with fer2013.csv."""
    return ferplus_majority(pd.read_csv(ferplus_csv))[samples.rows]


def with_ferplus_labels(samples: ExpressionSamples, ferplus_csv: Path) -> ExpressionSamples:
    """The same faces labelled by FER+ majority vote."""
    majority = majority_of(samples, ferplus_csv)
    keep = majority >= 0
    relabelled = samples.subset(keep)
    relabelled.labels = majority[keep].astype(np.int64)
    return relabelled


def agreed_with_ferplus(samples: ExpressionSamples, ferplus_csv: Path) -> ExpressionSamples:
    """The faces whose FER+ majority vote names their FER2013 label: the ones ten more annotators confirm."""
    return samples.subset(majority_of(samples, ferplus_csv) == samples.labels)
