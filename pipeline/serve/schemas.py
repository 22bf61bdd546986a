"""The API's documents as OpenAPI shows them at ``/docs``: faces (as ``AnnotationResult.to_json``), jobs, errors."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pipeline.serve.jobs import JobState


class Box(BaseModel):
    """A face's box in image pixels."""

    x: int
    y: int
    w: int
    h: int


class FaceDocument(BaseModel):
    """One face, as ``Face.to_dict`` writes it."""

    box: Box
    score: float = Field(description="the detector's confidence")
    label: str | None = Field(description="the most likely expression; null for a face that shows none of the classes")
    confidence: float | None = Field(description="the probability of label; null without a label")
    probabilities: dict[str, float] = Field(description="every class's probability, in the model's class order")
    keypoints: dict[str, tuple[float, float]] = Field(description="15 named keypoints, (x, y) in image pixels")


class AnnotationDocument(BaseModel):
    """Every face in a picture, largest first: the document ``AnnotationResult.to_json`` writes."""

    source: str | None = Field(description="the uploaded file's name (a label, never a path on the server)")
    faces: list[FaceDocument]


class JobStatus(BaseModel):
    """A video job: its progress, then links to the annotated video and its CSV."""

    id: str
    name: str = Field(description="the uploaded file's name")
    state: JobState
    frames: int = Field(description="frames annotated so far")
    total: int | None = Field(description="the video's frame count, where its file says")
    progress: float | None = Field(description="frames / total, 0 to 1 (None while the total is unknown)")
    error: str | None = Field(description="what went wrong, when failed")
    video: str | None = Field(description="URL of the annotated video (WebM), when done")
    csv: str | None = Field(description="URL of the CSV, one row per face per frame, when done")


class Health(BaseModel):
    """The server is up with its models loaded."""

    status: str
    classes: list[str] = Field(description="the expression classes the model reads, in its order")
    keypoints: list[str] = Field(description="the 15 keypoint names, in order")
    max_upload_mb: float
    max_megapixels: float


class ErrorDocument(BaseModel):
    """Every error: what was wrong, in one sentence."""

    detail: str
