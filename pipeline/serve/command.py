"""``facexpr serve``: the local web page and HTTP API, started on uvicorn with the models loaded once."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facexpr serve``."""
    from facexpr.cliflags import add_command
    from pipeline.commands import add_model_flags

    serve = add_command(
        subparsers,
        "serve",
        _serve,
        "A local web page (photos, videos, webcam) and HTTP API (OpenAPI at /docs) over the models, loaded once. "
        "Needs the serve extra: pip install 'facexpr[serve]'.",
        "facexpr serve --port 8000   # then open http://127.0.0.1:8000/",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every network this machine is on)"
    )
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--max-upload-mb", type=float, default=20.0, help="largest photo or video taken, in MB")
    serve.add_argument(
        "--max-megapixels", type=float, default=25.0, help="largest photo or video frame taken, in megapixels"
    )
    add_model_flags(serve)


def _serve(args: argparse.Namespace) -> int:
    from facexpr.errors import InvalidInputError

    try:
        import uvicorn

        from pipeline.serve.app import LOCAL_HOSTS, create_app
    except ImportError as error:
        hint = "install the serve extra: pip install 'facexpr[serve]'"
        raise InvalidInputError(f"{error.name} is missing; {hint}") from error
    from pipeline.commands import annotator_for
    from pipeline.serve.uploads import Limits

    limits = Limits.of(args.max_upload_mb, args.max_megapixels)
    local = args.host in LOCAL_HOSTS
    app = create_app(annotator_for(args), limits, hosts=LOCAL_HOSTS if local else None)
    print(f"facexpr serve: http://{args.host}:{args.port}/  (API docs at /docs; Ctrl-C stops)")
    if not local:
        print(f"facexpr serve: listening on {args.host}: other machines can use this server", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
