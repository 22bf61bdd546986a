"""The shared training loop: reproducible epochs, resumable runs, the run's epoch count in the progress output,
and second stages that start from a first stage's model."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from facexpr.training import RunFiles, ShuffledBatches, fit_resumable, run_stages, staged_run_state


class Noisy(ShuffledBatches):
    """Rows of a tiny regression problem with per-batch noise, to check seeding."""

    def __init__(self, size: int = 40, batch_size: int = 16, seed: int = 3) -> None:
        super().__init__(size, batch_size, seed)
        self.x = np.linspace(-1, 1, size, dtype=np.float32)[:, None]

    def make_batch(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        inputs = self.x[rows] + rng.normal(0, 0.01, (len(rows), 1)).astype(np.float32)
        return inputs, 2 * self.x[rows]


def whole_epoch(data: ShuffledBatches, epoch: int) -> tuple[np.ndarray, ...]:
    """All batches of ``epoch`` concatenated: (inputs, targets)."""
    return tuple(np.concatenate(parts) for parts in zip(*data.batches(epoch), strict=True))


def test_epochs_are_reproducible_and_reshuffled() -> None:
    data = Noisy()
    first, again, second = whole_epoch(data, 0), whole_epoch(Noisy(), 0), whole_epoch(data, 1)
    assert len(data) == 3 and first[0].shape == (40, 1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], second[1])
    assert sorted(first[1].ravel().tolist()) == sorted(second[1].ravel().tolist())  # same rows, new order


def tiny_regressor(learning_rate: float = 0.1) -> keras.Model:
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, name="out")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def test_interrupted_run_resumes_where_it_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, val = Noisy(), (np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32))
    fit_resumable(tiny_regressor, data, val, tmp_path, epochs=2, monitor="val_loss", verbose=2)
    _, state = fit_resumable(tiny_regressor, data, val, tmp_path, epochs=5, monitor="val_loss", verbose=2)
    out = capsys.readouterr().out
    assert "resuming" in out and "Epoch 3/5" in out and "Epoch 1/5" not in out
    assert state["epoch"] == 5
    log = pd.read_csv(tmp_path / "log.csv")
    assert log["epoch"].tolist() == [0, 1, 2, 3, 4] and log["loss"].iloc[-1] < log["loss"].iloc[0]


def test_second_stage_starts_from_the_first_and_reports_both(tmp_path: Path) -> None:
    data, val = Noisy(), (np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32))
    one, two = tmp_path / "one", tmp_path / "two"
    fit_resumable(tiny_regressor, data, val, one, epochs=4, monitor="val_loss", verbose=0)
    frozen = functools.partial(tiny_regressor, learning_rate=0.0)  # stage two keeps the weights it starts from
    fit_resumable(frozen, data, val, two, epochs=1, monitor="val_loss", init_from=one / "best.keras", verbose=0)
    started, finished = (keras.models.load_model(run / "best.keras").get_weights() for run in (one, two))
    assert all(np.array_equal(a, b) for a, b in zip(started, finished, strict=True))
    state = staged_run_state(run_stages(RunFiles(two), str(one / "best.keras")))
    assert [s["run"] for s in state["stages"]] == [str(one), str(two)]
    assert [s["epoch"] for s in state["stages"]] == [4, 1]
    assert state["train_seconds"] == pytest.approx(sum(s["train_seconds"] for s in state["stages"]))
    assert "stages" not in staged_run_state(run_stages(RunFiles(two), None))


def test_a_third_stage_reports_the_whole_chain(tmp_path: Path) -> None:
    data, val = Noisy(), (np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32))
    runs = [tmp_path / name for name in ("one", "two", "three")]
    for run, earlier in zip(runs, [None, *runs[:-1]], strict=True):
        init_from = str(earlier / "best.keras") if earlier else None
        fit_resumable(tiny_regressor, data, val, run, epochs=2, monitor="val_loss", init_from=init_from, verbose=0)
        RunFiles(run).config.write_text(json.dumps({"init_from": init_from}))
    state = staged_run_state(run_stages(RunFiles(runs[2]), str(runs[1] / "best.keras")))
    assert [s["run"] for s in state["stages"]] == [str(run) for run in runs]
    assert state["train_seconds"] == pytest.approx(sum(s["train_seconds"] for s in state["stages"]))


def second_stage_from_shipped(tmp_path: Path, recorded: list[dict[str, object]]) -> tuple[Path, Path, Path]:
    """Run ``one`` (2 epochs), ship its best model with a card listing ``recorded`` stages, then run ``two`` (1 epoch,
    its config naming the shipped file) from it: (one, two, shipped)."""
    data, val = Noisy(), (np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32))
    one, two, shipped = tmp_path / "one", tmp_path / "two", tmp_path / "weights" / "model.keras"
    fit_resumable(tiny_regressor, data, val, one, epochs=2, monitor="val_loss", verbose=0)
    shipped.parent.mkdir()
    shutil.copy(one / "best.keras", shipped)
    shipped.with_suffix(".card.json").write_text(json.dumps({"training": {"stages": recorded}}))
    fit_resumable(tiny_regressor, data, val, two, epochs=1, monitor="val_loss", init_from=shipped, verbose=0)
    (two / "config.json").write_text(json.dumps({"init_from": str(shipped)}))
    return one, two, shipped


def test_a_stage_started_from_shipped_weights_reports_the_runs_their_card_names(tmp_path: Path) -> None:
    one, two, shipped = second_stage_from_shipped(tmp_path, [{"run": str(tmp_path / "one")}])
    state = staged_run_state(run_stages(RunFiles(two), str(shipped)))
    assert [s["run"] for s in state["stages"]] == [str(one), str(two)]
    assert [s["epoch"] for s in state["stages"]] == [2, 1]
    # Once stage two ships in its turn, the card names it last; the walk from stage two still finds stage one.
    shipped.with_suffix(".card.json").write_text(json.dumps({"training": {"stages": state["stages"]}}))
    assert [s.root for s in run_stages(RunFiles(two), str(shipped))] == [one, two]


def test_a_stage_from_shipped_weights_whose_runs_are_gone_keeps_the_stages_their_card_records(tmp_path: Path) -> None:
    recorded = [{"run": "runs/gone-a", "epoch": 5, "best_epoch": 4, "train_seconds": 100.0}]
    recorded.append({"run": "runs/gone-b", "epoch": 3, "best_epoch": 3, "train_seconds": 50.0})
    _, two, shipped = second_stage_from_shipped(tmp_path, recorded)
    stages = run_stages(RunFiles(two), str(shipped))
    assert [s.root for s in stages] == [two]
    state = staged_run_state(stages)
    assert [s["run"] for s in state["stages"]] == ["runs/gone-a", "runs/gone-b", str(two)]
    assert state["train_seconds"] == pytest.approx(150.0 + state["stages"][-1]["train_seconds"])
    # A card with no list of stages stands for one stage, named by its weights file.
    card = {"model_file": "model.keras", "training": {"epochs_run": 7, "best_epoch": 6, "train_seconds": 70.0}}
    shipped.with_suffix(".card.json").write_text(json.dumps(card))
    assert staged_run_state(stages)["stages"][0] == {
        "run": "model.keras",
        "epoch": 7,
        "best_epoch": 6,
        "train_seconds": 70.0,
    }
