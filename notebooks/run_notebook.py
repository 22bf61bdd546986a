"""Execute the tour notebook with nbclient and keep its outputs (``make notebook``); ``--quick`` for the tests."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from facexpr.atomic import write_atomic

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "facexpr_tour.ipynb"


def execute_notebook(
    path: Path = NOTEBOOK, output: Path | None = None, quick: bool = False, timeout: int = 3600
) -> nbformat.NotebookNode:
    """Run every cell from the repository root (so ``./data`` resolves as for the CLI); raise on a cell error.

    Progress bars are switched off (``TQDM_DISABLE``): the saved outputs keep results, not a bar's every redraw. The
    executed notebook is written to ``output`` (atomically) when given.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": ROOT}})
    client.execute(env={**os.environ, "FACEXPR_QUICK": "1" if quick else "0", "TQDM_DISABLE": "1"})
    if output is not None:
        write_atomic(output, lambda temporary: nbformat.write(notebook, temporary))
    return notebook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebook", nargs="?", type=Path, default=NOTEBOOK)
    parser.add_argument("--quick", action="store_true", help="train on tiny subsets (what the test runs)")
    parser.add_argument("--output", type=Path, help="where to write the executed notebook (default: in place)")
    args = parser.parse_args()
    execute_notebook(args.notebook, args.output or args.notebook, args.quick)
    print(f"executed {args.notebook} -> {args.output or args.notebook}")


if __name__ == "__main__":
    main()
