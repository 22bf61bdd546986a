"""The light install: ``pip install .`` with no extras annotates the sample photo on LiteRT, with no TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_light_install_runs_the_demo_without_tensorflow(tmp_path: Path) -> None:
    venv = tmp_path / "light"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, facexpr = venv / "bin" / "python", venv / "bin" / "facexpr"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(ROOT)], capture_output=True, text=True, timeout=1200, env=env
    )
    assert install.returncode == 0, install.stderr[-3000:]
    missing = subprocess.run([python, "-c", "import tensorflow"], capture_output=True, text=True, env=env)
    assert missing.returncode != 0 and "No module named 'tensorflow'" in missing.stderr
    demo = subprocess.run(
        [facexpr, "demo", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert demo.returncode == 0, demo.stderr
    assert "face at" in demo.stdout and demo.stderr == ""
    assert (tmp_path / "out" / "astronaut_annotated.png").is_file() and (tmp_path / "out" / "astronaut.json").is_file()
    keras_model = subprocess.run(
        [
            facexpr,
            "demo",
            "-o",
            str(tmp_path / "out2"),
            "--keypoint-model",
            str(ROOT / "keypoints/weights/keypoints.keras"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert keras_model.returncode == 2 and 'pip install "facexpr[train]"' in keras_model.stderr
