"""The data setting and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from facexpr.datadir import FER2013, dataset_file, resolve_data_dir
from keypoints.inference import MODEL_FILE
from pipeline.cli import main


def test_data_setting_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEXPR_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("FACEXPR_DATA")
    assert resolve_data_dir(None) == Path("data")


def test_dataset_file_prefers_listed_order(tmp_path: Path) -> None:
    (tmp_path / "fer2013").mkdir()
    (tmp_path / "fer2013" / "fer2013.csv").write_text("emotion,pixels,Usage\n")
    assert dataset_file(FER2013, tmp_path).name == "fer2013.csv"


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["keypoints", "train", "--help"],
        ["keypoints", "evaluate", "--help"],
        ["keypoints", "export", "--help"],
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        assert "example:" in capsys.readouterr().out


def test_missing_data_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keypoints", "evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "keypoints68.csv" in err and "Get it from" in err


def test_python_dash_m_pipeline_is_the_facexpr_command() -> None:
    done = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage: facexpr" in done.stdout


def test_help_and_the_stage_packages_load_without_keras() -> None:
    # The models are imported on first use, so `facexpr report --help` answers at once, without TensorFlow's start.
    script = (
        "import sys, contextlib, io\n"
        "import expressions, keypoints, pipeline\n"
        "from pipeline.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['report', '--help'])\n"
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))\n"
        "print(expressions.predict.__module__, keypoints.KeypointModel.__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "expressions.inference keypoints.inference"]


def test_facexpr_demo_writes_nothing_of_tensorflow_on_stderr(tmp_path: Path) -> None:
    # A Keras model makes the demo load TensorFlow, whose start-up lines the quiet run keeps off stderr.
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    argv = [sys.executable, "-m", "pipeline", "demo", "-o", str(tmp_path), "--keypoint-model", str(MODEL_FILE)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    loud = subprocess.run([*argv[:3], "-v", *argv[3:]], capture_output=True, text=True, timeout=300, env=env)
    assert loud.returncode == 0 and "cuda" in loud.stderr.lower()  # -v shows what the quiet run kept back


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["expressions", "train", "--ferplus-mix", "1.5"], "ferplus_mix must lie in [0, 1], not 1.5"),
        (["expressions", "train", "--erase-prob", "-0.1"], "erase_prob must lie in [0, 1]"),
        (["expressions", "train", "--mixup-alpha", "-0.2"], "mixup_alpha must be >= 0, not -0.2"),
        (["expressions", "train", "--label-smoothing", "1.2"], "label_smoothing must lie in [0, 1], not 1.2"),
        (["expressions", "train", "--learning-rate", "0"], "learning_rate must be > 0"),
        (["expressions", "train", "--weight-decay", "-0.0001"], "weight_decay must be >= 0, not -0.0001"),
        (["expressions", "train", "--input-size", "0"], "input_size must be > 0"),
        (["expressions", "train", "--blocks-per-stage", "2", "2"], "blocks_per_stage must give each of the 3 stages"),
        (["expressions", "train", "--blocks-per-stage", "2", "0", "2"], "at least one block, not (2, 0, 2)"),
        (["expressions", "train", "--stage-filters", "64", "0", "256"], "positive width, not (64, 0, 256)"),
        (
            ["expressions", "train", "--ferplus-extra", "--labels", "ferplus"],
            "ferplus_extra adds faces by their FER2013",
        ),
        (["keypoints", "train", "--scale", "1.2"], "scale_range must be 0 < low <= high"),
        (["keypoints", "train", "--rotation-deg", "-5"], "rotation_deg must be >= 0"),
        (["keypoints", "train", "--blocks-per-stage", "2", "2"], "blocks_per_stage must give each of the 3 stages"),
    ],
)
def test_out_of_range_training_flags_fail_before_data_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    # The data folder is empty: the config's own check must answer first, naming the flag's field.
    assert main([*argv, "--data", str(tmp_path), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert named in err and "not found" not in err
    assert not (tmp_path / "run").exists()
