"""``python -m pipeline``: the same as the ``facexpr`` command."""

from pipeline.cli import main

raise SystemExit(main())
