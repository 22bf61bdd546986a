"""``facexpr serve``: a local web page and HTTP API over the pipeline (FastAPI on uvicorn, ``facexpr[serve]``)."""
