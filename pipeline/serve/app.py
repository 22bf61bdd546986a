"""The FastAPI app: the page, ``POST /api/annotate``, video jobs and health, over one shared set of models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

import cv2
from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from facexpr.errors import FacexprError, InvalidImageError
from keypoints.constants import KEYPOINT_NAMES
from pipeline.annotator import Annotator
from pipeline.api import annotate
from pipeline.result import AnnotationResult
from pipeline.serve.jobs import JobNotDoneError, ServerBusyError, UnknownJobError, VideoJob, VideoJobs
from pipeline.serve.limit import RequestSizeLimit
from pipeline.serve.models import SharedAnnotator
from pipeline.serve.schemas import AnnotationDocument, ErrorDocument, Health, JobStatus
from pipeline.serve.uploads import (
    Limits,
    UnsupportedUploadError,
    UploadTooLargeError,
    display_name,
    open_picture,
    read_upload,
)

STATIC = Path(__file__).resolve().parent / "static"
#: The Host headers a server bound to this machine answers (others are refused: DNS rebinding).
LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: The HTTP status of each error the server raises on purpose (the first match counts).
ERROR_STATUS: tuple[tuple[type[FacexprError], int], ...] = (
    (UploadTooLargeError, 413),
    (UnsupportedUploadError, 415),
    (UnknownJobError, 404),
    (JobNotDoneError, 409),
    (ServerBusyError, 503),
    (FacexprError, 422),
)
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorDocument, "description": kind.__doc__ or ""} for kind, code in ERROR_STATUS
}


def create_app(annotator: Annotator, limits: Limits | None = None, hosts: Sequence[str] | None = None) -> FastAPI:
    """The app over ``annotator``'s models (shared by all requests, their reads taking turns).

    ``limits`` defaults to ``Limits()``; ``hosts``: the Host headers to answer (``LOCAL_HOSTS`` for a server bound
    to 127.0.0.1), None answers any.
    """
    limits = limits or Limits()
    shared = SharedAnnotator(annotator)
    jobs = VideoJobs(shared, limits)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()

    app = FastAPI(
        title="facexpr",
        summary="Faces, 15 keypoints and expressions of pictures and videos.",
        description=f"Uploads: at most {limits.max_bytes / 1e6:g} MB and {limits.max_pixels / 1e6:g} megapixels. "
        "Every error is a JSON document whose `detail` says what was wrong.",
        lifespan=lifespan,
    )
    app.add_middleware(RequestSizeLimit, max_bytes=limits.max_request_bytes)
    if hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))
    app.add_exception_handler(FacexprError, _facexpr_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    classes = list(shared.expression_model.classes)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/health")
    def health() -> Health:
        """200 once the models are loaded (they are before the server starts listening)."""
        return Health(
            status="ok",
            classes=classes,
            keypoints=list(KEYPOINT_NAMES),
            max_upload_mb=limits.max_bytes / 1e6,
            max_megapixels=limits.max_pixels / 1e6,
        )

    @app.post(
        "/api/annotate",
        response_model=AnnotationDocument,
        responses={200: {"content": {"image/png": {}}, "description": "the faces, or the drawn picture"}, **_ERRORS},
    )
    def annotate_picture(
        file: Annotated[UploadFile, File(description="a picture: JPEG, PNG, HEIC, WebP, BMP, GIF or TIFF")],
        image: Annotated[Literal["png"] | None, Query(description="png: the drawn picture, not the faces")] = None,
    ) -> Response:
        """Every face in the picture: box, score, expression, class probabilities and 15 keypoints, largest first.

        The document `AnnotationResult.to_json` writes, with the upload's file name as `source`; `?image=png` returns
        the picture with the boxes, keypoints and labels drawn instead.
        """
        name = display_name(file.filename)
        picture = open_picture(read_upload(file.file, limits, name), limits, name)
        result = annotate(picture, annotator=shared, draw=image == "png")
        if image == "png":
            return Response(png_bytes(result), media_type="image/png")
        return Response(replace(result, source=name).to_json(), media_type="application/json")

    @app.post("/api/video", status_code=202, responses=_ERRORS)
    def start_video(file: Annotated[UploadFile, File(description="a video: MP4, WebM, AVI or MOV")]) -> JobStatus:
        """Queue a video; `GET /api/jobs/{id}` follows its progress, then links to the annotated video and its CSV."""
        return job_status(app, jobs.submit(file.file, display_name(file.filename)))

    @app.get("/api/jobs/{job_id}", responses=_ERRORS)
    def job(job_id: str) -> JobStatus:
        """A video job's progress, then links to its files."""
        return job_status(app, jobs.get(job_id))

    @app.get("/api/jobs/{job_id}/video", response_class=FileResponse, responses=_ERRORS)
    def job_video(job_id: str) -> FileResponse:
        """The annotated video (VP8 in WebM, which browsers play)."""
        done = jobs.done(job_id)
        return FileResponse(done.video, media_type="video/webm", filename=f"{Path(done.name).stem}_annotated.webm")

    @app.get("/api/jobs/{job_id}/csv", response_class=FileResponse, responses=_ERRORS)
    def job_csv(job_id: str) -> FileResponse:
        """One row per face per frame: frame, time, box, score, label, probabilities and keypoints."""
        done = jobs.done(job_id)
        return FileResponse(done.csv, media_type="text/csv", filename=f"{Path(done.name).stem}_annotated.csv")

    return app


def job_status(app: FastAPI, job: VideoJob) -> JobStatus:
    """What ``GET /api/jobs/{id}`` says about ``job``."""
    done = job.state == "done"
    return JobStatus(
        id=job.id,
        name=job.name,
        state=job.state,
        frames=job.frames,
        total=job.total,
        progress=min(1.0, job.frames / job.total) if job.total else (1.0 if done else None),
        error=job.error,
        video=app.url_path_for("job_video", job_id=job.id) if done else None,
        csv=app.url_path_for("job_csv", job_id=job.id) if done else None,
    )


def png_bytes(result: AnnotationResult) -> bytes:
    """The drawn picture of ``result`` as a PNG file's bytes."""
    image = result.image
    if image is None:
        raise InvalidImageError("this result has no drawn picture (annotate was called with draw=False)")
    if result.order == "rgb":
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise InvalidImageError(f"the drawn picture ({image.shape}) could not be encoded as PNG")
    return data.tobytes()


async def _facexpr_error(_: Request, error: Exception) -> JSONResponse:
    status = next(code for kind, code in ERROR_STATUS if isinstance(error, kind))
    return JSONResponse({"detail": str(error)}, status_code=status)


async def _validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    """A missing or malformed field, said in one sentence (e.g. "form field 'file': Field required")."""
    where = {"body": "form field", "query": "query parameter", "path": "path parameter"}
    problems = [
        f"{where.get(str(e['loc'][0]), e['loc'][0])} {'.'.join(map(str, e['loc'][1:]))!r}: {e['msg']}"
        for e in error.errors()
    ]
    return JSONResponse({"detail": "; ".join(problems)}, status_code=422)
