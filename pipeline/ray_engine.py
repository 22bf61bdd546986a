"""The Ray engine: Ray Data's ``map_batches`` over a collection's tasks on a pool of actors, one per worker, each
loading the models once and writing the shards it is handed. The only module that imports Ray."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import ray
import ray.data

from facexpr.errors import InvalidInputError
from pipeline.model_choice import ModelChoice
from pipeline.shard_worker import ShardWriter
from pipeline.shards import ShardRecord, Task


class ShardActor:
    """A Ray Data actor: the models load once, when it starts; each call writes the shard of each task in its batch."""

    def __init__(self, out: str, models: ModelChoice, draw: bool) -> None:
        # OpenCV's detector would use every core of the machine; an actor keeps to the CPUs Ray gave it, so a node
        # running one actor per core is not oversubscribed.
        cv2.setNumThreads(max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1))))
        self.writer = ShardWriter(out, models, draw)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        tasks = zip(batch["shard"], batch["kind"], batch["inputs"], strict=True)
        records = [
            self.writer.run(Task(str(shard), str(kind), tuple(json.loads(inputs)))) for shard, kind, inputs in tasks
        ]
        return {"record": np.array([record.to_json() for record in records], dtype=object)}


def run_tasks(
    tasks: Sequence[Task],
    out: str,
    models: ModelChoice,
    *,
    draw: bool = False,
    address: str | None = None,
    workers: int | None = None,
) -> Iterator[ShardRecord]:
    """Write every task's shard on the Ray cluster at ``address``, yielding each shard's record as it is written.

    ``address``: ``auto`` (the cluster running here), ``ray://HOST:10001`` (Ray Client), or None: ``$RAY_ADDRESS``,
    else a new Ray on this machine, shut down afterwards; a Ray already started in this process is used as it is.
    ``workers``: actors (one CPU and one copy of the models each); by default one per CPU of the cluster.
    """
    started = _connect(address)
    try:
        size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the caller shows one bar for the whole collection
        items = [{"shard": t.shard, "kind": t.kind, "inputs": json.dumps(t.inputs)} for t in tasks]
        dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            ShardActor,
            fn_constructor_kwargs={"out": out, "models": models, "draw": draw},
            batch_size=1,  # one task (a batch of images, or a video) per call
            batch_format="numpy",
            num_cpus=1,
            # Tasks go to whichever actor is free: at most one waits behind the one an actor is running.
            compute=ray.data.ActorPoolStrategy(size=size, max_tasks_in_flight_per_actor=2),
        )
        for row in dataset.iter_rows():
            yield ShardRecord.from_json(row["record"])
    finally:
        if started:
            ray.shutdown()


def _connect(address: str | None) -> bool:
    """Connect this process to Ray unless it is already; whether it connected (and so should disconnect)."""
    if ray.is_initialized():
        return False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    options: dict[str, object] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address is None and not os.environ.get("RAY_ADDRESS"):
        options["include_dashboard"] = False  # a new Ray on this machine: no dashboard to serve
    try:
        ray.init(address=address, **options)
    except ConnectionError as error:
        raise InvalidInputError(f"no Ray cluster at {address or os.environ.get('RAY_ADDRESS')}: {error}") from None
    return True
