"""A resumable Keras training loop shared by both stages: checkpoints, CSV log, early stopping, curves."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from facexpr.atomic import write_atomic, write_json
from facexpr.modelcard import card_beside
from facexpr.modelfile import read_model
from facexpr.resnet import start_new_blocks_as_identity


@dataclass(frozen=True)
class RunFiles:
    """The files of one training run directory."""

    root: Path

    @property
    def last(self) -> Path:
        return self.root / "last.keras"  # full model with optimizer state, written every epoch

    @property
    def best(self) -> Path:
        return self.root / "best.keras"  # best on the validation monitor

    @property
    def log(self) -> Path:
        return self.root / "log.csv"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def curves(self) -> Path:
        return self.root / "curves.png"

    def started_from(self) -> str | None:
        """The model the run's config names as ``init_from``; None for a run from scratch or without a config."""
        return json.loads(self.config.read_text()).get("init_from") if self.config.is_file() else None


class ResumableState(keras.callbacks.Callback):
    """Saves ``last`` and (when improved) ``best`` every epoch, stops early, and records progress to resume."""

    def __init__(self, files: RunFiles, monitor: str, mode: str, patience: int, state: dict[str, Any]) -> None:
        super().__init__()
        self.files, self.monitor, self.patience = files, monitor, patience
        self.sign = 1.0 if mode == "min" else -1.0
        self.state = state
        self._epoch_start = time.time()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.time()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        value = float(logs[self.monitor])
        s = self.state
        s["epoch"] = epoch + 1
        s["train_seconds"] = s.get("train_seconds", 0.0) + time.time() - self._epoch_start
        if s.get("best") is None or self.sign * value < self.sign * s["best"]:
            s.update(best=value, best_epoch=epoch + 1)
            write_atomic(self.files.best, self.model.save)
        write_atomic(self.files.last, self.model.save)
        write_json(self.files.state, s)
        plot_curves(self.files.log, self.files.curves)
        if epoch + 1 - s["best_epoch"] >= self.patience:
            print(f"early stopping: no {self.monitor} improvement for {self.patience} epochs", flush=True)
            self.model.stop_training = True


def fit_resumable(
    build: Callable[[], keras.Model],
    train_data: ShuffledBatches,
    val_data: Any,
    run_dir: str | os.PathLike[str],
    epochs: int,
    monitor: str,
    mode: str = "min",
    patience: int = 20,
    resume: bool = True,
    init_from: str | os.PathLike[str] | None = None,
    transfer: Callable[[keras.Model, keras.Model], list[str]] | None = None,
    validate: Callable[[keras.Model], dict[str, float]] | None = None,
    verbose: int | None = None,
) -> tuple[keras.Model, dict[str, Any]]:
    """Train ``build()`` (a compiled model) or resume it from ``run_dir``; return the best model and the run state.

    A fresh run starts from the weights of the ``init_from`` model when given (a second, fine-tuning stage), layer by
    layer where names and shapes match, so a model with another head (fer5 -> fer7) keeps the shared backbone.

    The loop feeds ``train_on_batch`` and ``test_on_batch`` itself. On 2 CPU cores a ``PyDataset`` in ``fit`` trained
    at half the speed (55 against ~100 images/s), and ``fit`` called once per epoch on arrays lost 20-30 s after
    every epoch: deleting the epoch's tf.data iterator waits for tf.data's autotuning thread to wake from its sleep.
    """
    files = RunFiles(Path(run_dir))
    files.root.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"epoch": 0, "best": None, "best_epoch": 0, "train_seconds": 0.0}
    if resume and files.last.is_file() and files.state.is_file():
        state = json.loads(files.state.read_text())
        model = keras.models.load_model(files.last)
        print(f"resuming {files.root} after epoch {state['epoch']} (best {monitor}={state['best']:.5g})", flush=True)
    else:
        model = build()
        if init_from:
            source = read_model(init_from, "--init-from model", "Start a stage from a run's best.keras.")
            skipped = (transfer or transfer_weights)(source, model)
            if skipped:
                print(f"initialised from {init_from} except {', '.join(skipped)} (no match)", flush=True)
        files.log.unlink(missing_ok=True)
    state.update(machine=machine_description(), monitor=monitor)
    callbacks = keras.callbacks.CallbackList(
        [
            keras.callbacks.CSVLogger(str(files.log), append=True),
            ResumableState(files, monitor, mode, patience, state),
            keras.callbacks.ProgbarLogger(),
        ],
        model=model,
        verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
        epochs=epochs,
        steps=len(train_data),
    )
    callbacks.on_train_begin()
    for epoch in range(state["epoch"], epochs):
        if epoch - state["best_epoch"] >= patience:
            break
        callbacks.on_epoch_begin(epoch)
        logs = train_epoch(model, train_data.batches(epoch), callbacks)
        logs.update({f"val_{name}": value for name, value in evaluate_arrays(model, *val_data).items()})
        logs.update(validate(model) if validate else {})
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end()
    return keras.models.load_model(files.best), state


def transfer_weights(source: keras.Model, target: keras.Model) -> list[str]:
    """Copy ``source``'s weights into ``target``'s layers of the same name and weight shapes; return the rest.

    Residual blocks that only ``target`` has (a deeper network) start as the identity, so it computes what
    ``source`` did until training moves them."""
    by_name = {layer.name: layer for layer in source.layers}
    skipped = []
    for layer in target.layers:
        if not layer.weights:
            continue
        match = by_name.get(layer.name)
        weights = match.get_weights() if match is not None else []
        if [w.shape for w in weights] == [tuple(w.shape) for w in layer.weights]:
            layer.set_weights(weights)
        else:
            skipped.append(layer.name)
    started = start_new_blocks_as_identity(target, skipped)
    if started:
        print(f"new residual blocks {', '.join(started)} start as the identity", flush=True)
    return skipped


class BatchMeans:
    """Per-sample means of the metrics Keras reports per batch (``*_on_batch`` reset them every call)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.seen = 0

    def add(self, logs: dict[str, Any], size: int) -> dict[str, float]:
        """Count one batch of ``size`` samples; the means so far."""
        self.seen += size
        for name, value in logs.items():
            self.totals[name] = self.totals.get(name, 0.0) + float(value) * size
        return self.means()

    def means(self) -> dict[str, float]:
        return {name: total / self.seen for name, total in self.totals.items()}


def train_epoch(
    model: keras.Model, batches: Iterable[tuple[np.ndarray, ...]], callbacks: keras.callbacks.CallbackList
) -> dict[str, float]:
    """One pass of ``train_on_batch`` over (inputs, targets[, sample weights]) batches; the epoch's mean metrics."""
    means = BatchMeans()
    for step, (inputs, targets, *weights) in enumerate(batches):
        callbacks.on_train_batch_begin(step)
        logs = model.train_on_batch(inputs, targets, sample_weight=weights[0] if weights else None, return_dict=True)
        callbacks.on_train_batch_end(step, means.add(logs, len(inputs)))
    return means.means()


def evaluate_arrays(
    model: keras.Model, inputs: np.ndarray, targets: np.ndarray, batch_size: int = 256
) -> dict[str, float]:
    """The compiled loss and metrics of ``model`` over whole arrays, batch by batch with ``test_on_batch``."""
    means = BatchMeans()
    for start in range(0, len(inputs), batch_size):
        part = slice(start, start + batch_size)
        means.add(model.test_on_batch(inputs[part], targets[part], return_dict=True), len(inputs[part]))
    return means.means()


def fit_configured(
    config: Any,
    compiled_model: Callable[[Any, int], keras.Model],
    train_data: ShuffledBatches,
    val_data: Any,
    run_dir: str | os.PathLike[str],
    monitor: str,
    mode: str = "min",
    resume: bool = True,
    transfer: Callable[[keras.Model, keras.Model], list[str]] | None = None,
    validate: Callable[[keras.Model], dict[str, float]] | None = None,
) -> tuple[keras.Model, dict[str, Any]]:
    """Save a stage's ``config`` (a ``JsonConfig`` with epochs, patience and init_from) in ``run_dir`` and run
    ``fit_resumable`` as it says; ``compiled_model(config, steps_per_epoch)`` builds a fresh model."""
    files = RunFiles(Path(run_dir))
    files.root.mkdir(parents=True, exist_ok=True)
    config.save(files.config)
    return fit_resumable(
        lambda: compiled_model(config, len(train_data)),
        train_data,
        val_data,
        files.root,
        epochs=config.epochs,
        monitor=monitor,
        mode=mode,
        patience=config.patience,
        resume=resume,
        init_from=config.init_from,
        transfer=transfer,
        validate=validate,
    )


class ShuffledBatches:
    """Augmented training batches, reshuffled every epoch.

    Each batch has its own generator seeded by (seed, epoch, batch), so a resumed run sees the same data as an
    uninterrupted one. Subclasses implement ``make_batch(rows, rng)``.
    """

    def __init__(self, size: int, batch_size: int, seed: int) -> None:
        self.size, self.batch_size, self.seed = size, batch_size, seed

    def __len__(self) -> int:
        return math.ceil(self.size / self.batch_size)

    def batches(self, epoch: int) -> Iterator[tuple[np.ndarray, ...]]:
        """The batches of ``epoch`` in order: (inputs, targets[, sample weights]), made as they are asked for."""
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        for index, start in enumerate(range(0, self.size, self.batch_size)):
            yield self.make_batch(
                order[start : start + self.batch_size], np.random.default_rng([self.seed, epoch, index])
            )

    def make_batch(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """The (inputs, targets[, weights]) of the given rows."""
        raise NotImplementedError


def plot_curves(log: Path, out: Path) -> None:
    """Plot every training metric with its validation twins (``val_<name>``, ``val_<reading>_<name>``), one panel
    each, from the CSV log."""
    from facexpr.figures import plt, save_figure

    if not log.is_file():
        return
    frame = pd.read_csv(log)
    metrics = [c for c in frame.columns if c not in ("epoch", "learning_rate") and not c.startswith("val_")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for ax, name in zip(axes[0], metrics, strict=True):
        epoch = frame["epoch"] + 1
        ax.plot(epoch, frame[name], label="train")
        for column in (c for c in frame.columns if c.startswith("val_") and c.endswith(name)):
            reading = column[len("val_") : -len(name)].strip("_").replace("_", " ")
            ax.plot(epoch, frame[column], label=f"validation ({reading})" if reading else "validation")
        ax.set(title=name, xlabel="epoch", ylabel=name)
        if name.endswith("loss") or "mse" in name:
            ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    save_figure(fig, out, dpi=100)


def cosine_schedule(
    learning_rate: float, epochs: int, steps_per_epoch: int, warmup_epochs: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up to ``learning_rate``, then cosine decay to zero at the last epoch."""
    warmup = max(0, warmup_epochs * steps_per_epoch)
    total = max(1, epochs * steps_per_epoch - warmup)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * 0.01 if warmup else learning_rate,
        decay_steps=total,
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def _stage_summary(run: Path | str, state: dict[str, Any]) -> dict[str, Any]:
    """One stage of a chain of runs as a model card lists it."""
    return {"run": str(run), **{key: state.get(key) for key in ("epoch", "best_epoch", "train_seconds")}}


def producing_run(model_file: str | os.PathLike[str], started: Path | None = None) -> RunFiles:
    """The run that trained ``model_file``: the run directory it lies in, or for shipped weights (which lie beside
    a model card, ``<name>.card.json``) the last training stage the card names. Where ``started`` (the run that
    started from the file) is itself one of those stages, a later export has replaced the file since, and the
    stage before ``started`` is the one it started from."""
    path = Path(model_file)
    card = card_beside(path)
    if not RunFiles(path.parent).state.is_file() and card.is_file():
        runs = [Path(stage["run"]) for stage in json.loads(card.read_text()).get("training", {}).get("stages") or []]
        if started in runs[1:]:
            return RunFiles(runs[runs.index(started) - 1])
        if runs:
            return RunFiles(runs[-1])
    return RunFiles(path.parent)


def run_stages(files: RunFiles, init_from: str | None) -> list[RunFiles]:
    """The runs behind a model, first stage first: those whose models it started from (``init_from``, followed
    through each earlier run's config, and through a shipped model's card), then the run itself. A stage without a
    state file ends the walk."""
    stages = [files]
    while init_from:
        earlier = producing_run(init_from, started=stages[0].root)
        if not earlier.state.is_file() or any(stage.root == earlier.root for stage in stages):
            break
        stages.insert(0, earlier)
        init_from = earlier.started_from()
    return stages


def starting_card(first: RunFiles) -> dict[str, Any]:
    """The model card of the shipped weights that ``first`` started from (its config's ``init_from``), or {} where
    it started from scratch, from a run's checkpoint or from weights without a card."""
    init_from = first.started_from()
    card = card_beside(init_from) if init_from else None
    return json.loads(card.read_text()) if card is not None and card.is_file() else {}


def recorded_stages(first: RunFiles) -> list[dict[str, Any]]:
    """The stages before ``first`` (the earliest ``run_stages`` found on disk) that only a model card still records:
    where ``first`` started from shipped weights whose own runs are gone, the stages their card lists before it (a
    card without a list stands for one stage, named by its weights file)."""
    card = starting_card(first)
    if not card:
        return []
    training = card.get("training", {})
    stages = training.get("stages") or [
        _stage_summary(card.get("model_file", ""), {**training, "epoch": training.get("epochs_run")})
    ]
    runs = [stage["run"] for stage in stages]
    return stages[: runs.index(str(first.root))] if str(first.root) in runs else stages


def staged_run_state(stages: list[RunFiles]) -> dict[str, Any]:
    """The state of the last of ``stages`` (``run_stages``); with earlier stages, on disk or recorded in the card
    of shipped weights the first one started from (``recorded_stages``), every stage and their summed training time."""
    states = [json.loads(stage.state.read_text()) for stage in stages]
    state = states[-1]
    summaries = recorded_stages(stages[0]) + [
        _stage_summary(stage.root, s) for stage, s in zip(stages, states, strict=True)
    ]
    if len(summaries) > 1:
        state["stages"] = summaries
        state["train_seconds"] = sum(float(stage["train_seconds"] or 0.0) for stage in summaries)
    return state


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend."""
    keras.utils.set_random_seed(seed)
    np.random.seed(seed)


def machine_description() -> dict[str, Any]:
    """This machine: CPU count, platform and library versions (in model cards and benchmark figures)."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
