"""The tour notebook runs end to end in quick mode (tiny training subsets), with nbclient."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_notebook_runs_in_quick_mode(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEXPR_DATA", str(data_dir.resolve()))
    monkeypatch.setenv("FACEXPR_NOTEBOOK_OUT", str(tmp_path / "out"))
    execute_notebook = runpy.run_path(str(ROOT / "notebooks" / "run_notebook.py"))["execute_notebook"]
    executed = execute_notebook(output=tmp_path / "tour.ipynb", quick=True, timeout=600)  # raises on any cell error
    text = "\n".join(
        output.get("text", "") for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "quick mode: True" in text
    assert "RMSE" in text and "precision" in text and "recall" in text
    images = sum(
        any(kind.startswith("image/") for kind in output.get("data", {}))
        for cell in executed.cells
        for output in cell.get("outputs", [])
    )
    assert images >= 10
    stderr = [output for cell in executed.cells for output in cell.get("outputs", []) if output.get("name") == "stderr"]
    assert not any("cuda" in output.get("text", "").lower() for output in stderr)  # TensorFlow's start-up kept out
    assert (tmp_path / "out" / "report-fer5" / "report.json").is_file()
    assert (tmp_path / "tour.ipynb").is_file()
