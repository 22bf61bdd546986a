"""Request bodies over the upload limit refused from their Content-Length, before a byte of them is kept."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

#: An oversized body up to this size is read and dropped before the 413 is sent, so the client, still sending, sees
#: the answer instead of a reset connection; past it the connection is closed after the answer.
DRAIN_LIMIT = 256 * 1024 * 1024


class RequestSizeLimit:
    """ASGI middleware: a request with a body must declare its length (411), at most ``max_bytes`` (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is None:
            await _refuse(411, "send the upload with a Content-Length header (chunked uploads are not taken)")(
                scope, receive, send
            )
        elif not declared.isdigit():
            await _refuse(400, f"the Content-Length header is not a number: {declared[:40]!r}")(scope, receive, send)
        elif int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_LIMIT:
                await _drain(receive)
            detail = (
                f"the upload is {int(declared) / 1e6:.1f} MB, over this server's limit of {self.max_bytes / 1e6:.1f} MB"
                " with its multipart framing (--max-upload-mb)"
            )
            await _refuse(413, detail)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _refuse(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _drain(receive: Receive) -> None:
    """Read the request body to its end, keeping none of it."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
