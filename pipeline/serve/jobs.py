"""Video jobs: each uploaded video annotated in the background, one at a time, with its progress and its files."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import cv2

from facexpr.errors import FacexprError, InvalidInputError
from pipeline.annotator import Annotator
from pipeline.serve.uploads import Limits, UnsupportedUploadError, save_upload
from pipeline.video import annotate_video, open_capture

logger = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]


class UnknownJobError(InvalidInputError):
    """A job id this server does not hold (never made, or forgotten since) (HTTP 404)."""


class JobNotDoneError(InvalidInputError):
    """A job's files asked for before it is done (HTTP 409)."""


class ServerBusyError(FacexprError):
    """Too many videos waiting; the client should try again later (HTTP 503)."""


class _Stopping(Exception):
    """Raised from a job's progress callback when the server stops, which ends the run and writes no file."""


@dataclass
class VideoJob:
    """One uploaded video: its label, its folder (the server's, never named by a request) and how far it got."""

    id: str
    name: str
    folder: Path
    state: JobState = "queued"
    frames: int = 0
    total: int | None = None
    error: str | None = None

    @property
    def video(self) -> Path:
        """The annotated video (VP8 in WebM, which browsers play), once ``state`` is done."""
        return self.folder / "annotated.webm"

    @property
    def csv(self) -> Path:
        """One row per face per frame, once ``state`` is done."""
        return self.folder / "annotated.csv"

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


class VideoJobs:
    """Annotates uploaded videos in one background thread, in the order they came, in a temporary folder of its own.

    At most ``keep`` jobs are held: a new one forgets (and deletes the files of) the oldest finished job, and is
    refused while ``keep`` jobs are still waiting or running. ``close`` stops the running job and deletes everything.
    """

    def __init__(self, annotator: Annotator, limits: Limits, keep: int = 16) -> None:
        self.annotator = annotator
        self.limits = limits
        self.keep = keep
        self._root = tempfile.TemporaryDirectory(prefix="facexpr-serve-")
        self.folder = Path(self._root.name)  # every job's files, in a folder of its own
        self._jobs: dict[str, VideoJob] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facexpr-video-job")

    def submit(self, upload: BinaryIO, name: str) -> VideoJob:
        """Save the upload, check that it is a video within the limits, and queue it."""
        with self._lock:
            if sum(not job.finished for job in self._jobs.values()) >= self.keep:
                raise ServerBusyError(f"{self.keep} videos are already waiting or running; try again later")
        job_id = uuid.uuid4().hex
        job = VideoJob(job_id, name, self.folder / job_id)
        job.folder.mkdir()
        try:
            source = save_upload(upload, job.folder / "upload", self.limits, name)
            self._check_video(source, name)
        except BaseException:
            shutil.rmtree(job.folder, ignore_errors=True)
            raise
        with self._lock:
            self._forget_finished()
            self._jobs[job.id] = job
        self._worker.submit(self._run, job, source)
        return job

    def get(self, job_id: str) -> VideoJob:
        """The job with this id, or ``UnknownJobError``."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise UnknownJobError(f"no video job {job_id!r} on this server (never made, or forgotten since)")
        return job

    def done(self, job_id: str) -> VideoJob:
        """The job with this id once its files are written, or ``UnknownJobError`` / ``JobNotDoneError``."""
        job = self.get(job_id)
        if job.state != "done":
            failed = f": {job.error}" if job.error else ""
            raise JobNotDoneError(f"video job {job_id} is {job.state}, so it has no files{failed}")
        return job

    def close(self) -> None:
        """Stop the running job, drop the waiting ones and delete every job's files."""
        self._stopping.set()
        self._worker.shutdown(wait=True, cancel_futures=True)
        self._root.cleanup()

    def _check_video(self, source: Path, name: str) -> None:
        try:
            capture = open_capture(source)
        except InvalidInputError:
            raise UnsupportedUploadError(
                f"{name}: not a video this server reads (send an MP4, WebM, AVI or MOV file)"
            ) from None
        try:
            width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            self.limits.check_pixels(width, height, name)
        finally:
            capture.release()

    def _run(self, job: VideoJob, source: Path) -> None:
        job.state = "running"

        def progress(done: int, total: int | None) -> None:
            if self._stopping.is_set():
                raise _Stopping
            job.frames, job.total = done, total

        try:
            annotate_video(
                source, job.video, csv_path=job.csv, annotator=self.annotator, progress=False, on_frame=progress
            )
            job.state = "done"
        except _Stopping:
            job.state, job.error = "failed", "the server stopped before this video was done"
        except Exception as error:  # the job reports its failure and the server goes on serving
            logger.exception("video job %s (%s) failed", job.id, job.name)
            job.state, job.error = "failed", f"{job.name}: annotating failed ({type(error).__name__}: {error})"
        finally:
            source.unlink(missing_ok=True)

    def _forget_finished(self) -> None:
        """Forget the oldest finished jobs (and delete their files) so that a new one fits within ``keep``."""
        finished = [job for job in self._jobs.values() if job.finished]
        for job in finished[: max(0, len(self._jobs) + 1 - self.keep)]:
            del self._jobs[job.id]
            shutil.rmtree(job.folder, ignore_errors=True)
