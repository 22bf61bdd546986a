"""The expression model: honest splits, a quick real training run, predict, and the report command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import keras
import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.metrics import classification_report

from expressions.compare import paired_counts
from expressions.config import ExpressionConfig
from expressions.datasets import ferplus_majority, load_fer2013
from expressions.export import export_run, remeasure_card, used_ferplus
from expressions.faces import preset_faces
from expressions.inference import ExpressionModel, load_model
from expressions.model import build_model
from expressions.presets import FER2013_CLASSES, class_columns, get_preset
from expressions.train import compiled_model, train, training_faces, transfer_classifier
from expressions.views import MULTISCALE, scaled
from facexpr.checksum import sha256_file
from facexpr.datadir import FERPLUS, dataset_file
from facexpr.errors import DataNotFoundError, InvalidInputError
from facexpr.training import RunFiles, run_stages, transfer_weights
from pipeline.cli import main

TINY = ExpressionConfig(stem_filters=8, stage_filters=(8, 16), blocks_per_stage=(1, 1), batch_size=32)


def test_no_private_test_row_reaches_training_or_selection(data_dir: Path, fer_csv: Path) -> None:
    fit, select = training_faces(ExpressionConfig(preset="fer7"), data_dir, quick=False)
    usage = pd.read_csv(fer_csv, usecols=["Usage"])["Usage"].to_numpy()
    assert set(usage[fit.rows]) == {"Training"}
    assert set(usage[select.rows]) == {"PublicTest"}
    assert len(fit.rows) == 28709 and len(select.rows) == 3589
    fer5_fit, _ = training_faces(ExpressionConfig(preset="fer5"), data_dir, quick=False)
    assert len(fer5_fit.rows) == 3995 + 436 + 4830 + 7215 + 3171  # Fear and Neutral dropped


def test_ferplus_extra_adds_training_faces_the_preset_drops_by_their_ferplus_majority(
    data_dir: Path, fer_csv: Path
) -> None:
    fit, select = training_faces(ExpressionConfig(preset="fer5", ferplus_extra=True), data_dir, quick=False)
    table = pd.read_csv(fer_csv, usecols=["emotion", "Usage"])
    assert set(table["Usage"].to_numpy()[fit.rows]) == {"Training"} and len(set(fit.rows)) == len(fit.rows)
    assert len(select.rows) == 3589 - 496 - 607  # selection stays the preset's PublicTest faces (Fear, Neutral out)
    extra = slice(3995 + 436 + 4830 + 7215 + 3171, None)
    assert len(fit.rows[extra]) == 2463
    assert set(np.array(FER2013_CLASSES)[table["emotion"].to_numpy()[fit.rows[extra]]]) == {"Fear", "Neutral"}
    majority = ferplus_majority(pd.read_csv(dataset_file(FERPLUS, data_dir)))[fit.rows[extra]]
    named = np.array(get_preset("fer5").classes)[fit.targets[extra]]
    assert np.array_equal(np.array(FER2013_CLASSES)[majority], named)


@pytest.fixture(scope="module")
def fer_data_dir(tmp_path_factory: pytest.TempPathFactory, fer_sample: Path) -> Path:
    """A data directory whose FER2013 file is the small real sample."""
    root = tmp_path_factory.mktemp("ferdata")
    (root / "fer2013").mkdir()
    (root / "fer2013" / "fer2013.csv").write_bytes(fer_sample.read_bytes())
    return root


@pytest.mark.slow
def test_quick_training_run(tmp_path: Path, data_dir: Path, isolated_cache: Path) -> None:
    result = train(TINY.replace(epochs=1), tmp_path / "run", data_dir, quick=True)
    for name in ("best.keras", "last.keras", "log.csv", "curves.png", "config.json", "state.json"):
        assert (tmp_path / "run" / name).is_file(), name
    assert result.state["epoch"] == 1 and 0.0 <= result.state["best"] <= 1.0
    assert np.bincount(result.train_faces.targets).tolist() == [24] * 5
    log = pd.read_csv(tmp_path / "run" / "log.csv")
    assert {"accuracy", "val_accuracy", "loss", "val_loss", "val_mirror_accuracy"} <= set(log.columns)
    # the checkpoint is chosen on PublicTest read as the shipped models read it: each face with its mirror image
    assert result.state["monitor"] == "val_mirror_accuracy"
    select = result.select_faces
    probs = ExpressionModel(result.model, "fer5").probabilities(select.images)
    assert result.state["best"] == pytest.approx(np.mean(probs.argmax(axis=1) == select.targets))


@pytest.mark.slow
def test_one_seven_class_run_ships_once_for_two_presets(
    tmp_path: Path, fer_data_dir: Path, isolated_cache: Path
) -> None:
    train(TINY.replace(preset="fer7", epochs=1), tmp_path / "run", fer_data_dir, quick=True)
    weights = tmp_path / "weights"
    command = "facexpr expressions train --preset fer7 --quick"
    for preset in ("fer7", "fer5"):
        export_run(tmp_path / "run", command, fer_data_dir, weights_dir=weights, preset=preset)
    assert sorted(p.name for p in weights.iterdir()) == [
        "fer5.card.json",
        "fer7.card.json",
        "fer7.config.json",
        "fer7.keras",
        "fer7.tflite",
    ]
    fer5 = json.loads((weights / "fer5.card.json").read_text())
    assert fer5["model_file"] == "fer7.keras" and fer5["training_command"] == command
    assert fer5["litert_file"] == "fer7.tflite" and fer5["litert_sha256"] == sha256_file(weights / "fer7.tflite")
    assert fer5["metrics"]["PrivateTest"]["classes"] == list(get_preset("fer5").classes)
    # Re-measured with the same network and faces, the card reads the same; the re-measure is recorded.
    again = remeasure_card("fer5", fer_data_dir, tmp_path / "remeasure", weights_dir=weights)
    assert again["metrics"]["PrivateTest"]["accuracy"] == fer5["metrics"]["PrivateTest"]["accuracy"]
    assert json.loads((weights / "fer5.card.json").read_text())["remeasured"]["eyes_read_by"] is None  # unaligned
    with pytest.raises(DataNotFoundError, match="no card"):
        remeasure_card("fer5-neutral", fer_data_dir, tmp_path / "remeasure", weights_dir=weights)


def test_ferplus_votes_in_an_earlier_stage_count_for_the_card(tmp_path: Path) -> None:
    def chain(name: str, config: ExpressionConfig) -> list[RunFiles]:
        files = RunFiles(tmp_path / name)
        files.root.mkdir()
        config.save(files.config)
        files.state.write_text(json.dumps({"epoch": 1, "best_epoch": 1, "train_seconds": 1.0}))
        return run_stages(files, config.init_from)

    voted = chain("voted", TINY.replace(ferplus_mix=0.4))
    plain = chain("plain", TINY)
    after_voted = chain("after-voted", TINY.replace(init_from=str(voted[-1].best)))
    after_plain = chain("after-plain", TINY.replace(init_from=str(plain[-1].best)))
    assert used_ferplus(voted) and used_ferplus(after_voted)
    assert not used_ferplus(plain) and not used_ferplus(after_plain)
    # Shipped weights whose runs are gone: their card's data list says whether the votes shaped them.
    for name, voted_card in (("voted", True), ("plain", False)):
        shipped = tmp_path / "weights" / f"{name}.keras"
        shipped.parent.mkdir(exist_ok=True)
        files = [{"file": "fer2013.csv.gz"}] + ([{"file": "fer2013new.csv"}] if voted_card else [])
        shipped.with_suffix(".card.json").write_text(json.dumps({"data": files}))
        assert used_ferplus(chain(f"after-shipped-{name}", TINY.replace(init_from=str(shipped)))) == voted_card


@pytest.fixture(scope="module")
def tiny_model() -> ExpressionModel:
    return ExpressionModel(build_model(TINY), "fer5")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"preset": "fer6"}, "preset must be one of fer5, fer7, fer5-neutral, not 'fer6'"),
        ({"labels": "votes"}, "labels must be one of fer2013, ferplus, agreed, not 'votes'"),
        ({"optimizer": "adam"}, "optimizer must be one of adamw, sgd, not 'adam'"),
        ({"ferplus_extra": True, "labels": "agreed"}, "ferplus_extra adds faces by their FER2013 label"),
    ],
)
def test_a_config_names_an_unknown_choice_when_made(fields: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ExpressionConfig(**fields)


@pytest.mark.parametrize(("optimizer", "kind"), [("adamw", keras.optimizers.AdamW), ("sgd", keras.optimizers.SGD)])
def test_a_stage_compiles_with_the_optimizer_its_config_names(optimizer: str, kind: type) -> None:
    compiled = compiled_model(TINY.replace(optimizer=optimizer), steps_per_epoch=4).optimizer
    assert type(compiled) is kind
    assert optimizer == "adamw" or (compiled.nesterov and compiled.momentum == 0.9)


def test_predict_shapes_and_probabilities(tiny_model: ExpressionModel, fer_sample: Path) -> None:
    faces = load_fer2013(fer_sample).images[:6]
    labels, probs = tiny_model.predict(faces)
    assert len(labels) == 6 and probs.shape == (6, 5)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert set(labels) <= set(get_preset("fer5").classes)
    bgr = np.stack([cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) for f in faces])
    assert np.allclose(tiny_model.predict(bgr)[1], probs, atol=1e-4)
    big = np.stack([cv2.resize(f, (96, 96)) for f in faces]).astype(np.float32) / 255.0
    assert tiny_model.predict(big)[1].shape == (6, 5)  # any size, float in 0..1


def test_mirror_averaging_reads_a_face_and_its_mirror_alike(tiny_model: ExpressionModel, fer_sample: Path) -> None:
    faces = load_fer2013(fer_sample).images[:4]
    mirrored = ExpressionModel(tiny_model.network, "fer5", tta=True)
    probs = mirrored.probabilities(faces)
    assert np.allclose(probs, mirrored.probabilities(faces[:, :, ::-1]), atol=1e-5)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    plain = tiny_model.probabilities(faces)
    assert np.allclose(probs, (plain + tiny_model.probabilities(faces[:, :, ::-1])) / 2, atol=1e-5)


def test_multiscale_reading_averages_the_face_at_each_zoom(
    tiny_model: ExpressionModel, fer_sample: Path, tmp_path: Path
) -> None:
    faces = load_fer2013(fer_sample).images[:4].astype(np.float32)
    scales = (0.9, 1.0, 1.12)
    multiscale = ExpressionModel(tiny_model.network, "fer5", tta=True, scales=scales)
    assert multiscale.views == 6 and multiscale.prepare(faces).shape == (24, 48, 48, 1)
    probs = multiscale.probabilities(faces)
    each = [tiny_model.probabilities(scaled(faces, scale)) for scale in scales]  # tiny_model: mirror-averaged
    expected = np.mean(each, axis=0)
    assert np.allclose(probs, expected / expected.sum(axis=1, keepdims=True), atol=1e-5)
    assert multiscale.probabilities(faces[:0]).shape == (0, 5)  # a frame without faces
    with pytest.raises(InvalidInputError, match="scales must be one or more positive zooms"):
        ExpressionModel(tiny_model.network, "fer5", scales=(1.0, 0.0))
    tiny_model.network.model.save(tmp_path / "tiny.keras")
    assert load_model("fer5", tmp_path / "tiny.keras", scales=[0.9, 1.0]).scales == (0.9, 1.0)  # a list does too


def test_a_zoom_scales_the_face_about_its_centre() -> None:
    face = np.zeros((1, 64, 64), dtype=np.float32)
    face[0, 24:40, 24:40] = 255.0  # a 16x16 square at the centre
    assert scaled(face, 1.0) is face
    bright = (scaled(face, 1.25)[0] > 127).nonzero()
    assert bright[0].min() == 22 and bright[0].max() == 41  # 20 rows: 16 * 1.25, still centred
    assert (bright[1].min(), bright[1].max()) == (22, 41)


def test_an_upsampling_network_reads_faces_as_training_prepared_them(fer_sample: Path) -> None:
    # A 64x64 network is trained on FER2013's 48x48 faces upsampled bilinearly; predict must upsample alike.
    model = ExpressionModel(build_model(TINY.replace(input_size=64)), "fer5", tta=False)
    samples, fer5 = load_fer2013(fer_sample), get_preset("fer5")
    training = samples.split("Training")
    _, keep = fer5.map_labels(training.labels)
    prepared = preset_faces(samples, fer5, "Training", 64).images[:8]
    assert prepared.shape == (8, 64, 64)
    faces = training.images[keep][:8]
    assert np.array_equal(model.prepare(faces)[..., 0], prepared)  # uint8 faces resized as training resized them
    bgr = np.stack([cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) for f in faces])
    assert np.array_equal(model.prepare(bgr)[..., 0], prepared)
    assert np.allclose(model.prepare(faces / 255.0)[..., 0], prepared, atol=1.0)  # floats are resized as floats
    assert model.prepare(training.images[:0]).shape == (0, 64, 64, 1)  # a frame without faces


def test_seven_class_network_serves_five_class_preset(fer_sample: Path) -> None:
    model = ExpressionModel(build_model(TINY.replace(preset="fer7")), "fer5")
    probs = model.probabilities(load_fer2013(fer_sample).images[:3])
    assert probs.shape == (3, 5) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_a_five_class_backbone_starts_a_seven_class_model() -> None:
    five, seven = build_model(TINY), build_model(TINY.replace(preset="fer7"))
    head = seven.get_layer("probabilities").get_weights()
    assert transfer_weights(five, seven) == ["probabilities"]
    assert np.array_equal(seven.get_layer("stem_conv").get_weights()[0], five.get_layer("stem_conv").get_weights()[0])
    assert all(np.array_equal(a, b) for a, b in zip(seven.get_layer("probabilities").get_weights(), head, strict=True))


def test_a_deeper_network_starts_out_computing_what_its_init_model_did() -> None:
    shallow = build_model(TINY)
    deeper = build_model(TINY.replace(blocks_per_stage=(1, 2)))
    new_blocks = [layer.name for layer in deeper.layers if layer.name.startswith("stage2_block2") and layer.weights]
    assert transfer_weights(shallow, deeper) == new_blocks
    assert not np.any(deeper.get_layer("stage2_block2_conv2").get_weights()[0])
    assert np.any(deeper.get_layer("stage2_block2_conv1").get_weights()[0])  # only the branch's last conv is zeroed
    faces = np.random.default_rng(1).uniform(0, 255, (4, 48, 48, 1)).astype(np.float32)
    assert np.allclose(np.asarray(deeper(faces, training=False)), np.asarray(shallow(faces, training=False)))


def test_a_seven_class_head_starts_a_five_class_model_where_it_left_off() -> None:
    seven, five = build_model(TINY.replace(preset="fer7")), build_model(TINY)
    assert class_columns(7, "fer5") == [0, 1, 4, 3, 5]  # Angry, Disgust, Sad, Happy, Surprise in FER2013's numbering
    assert transfer_classifier(seven, five, "fer5") == []
    faces = np.random.default_rng(0).uniform(0, 255, (4, 48, 48, 1)).astype(np.float32)
    restricted = np.asarray(seven(faces, training=False))[:, class_columns(7, "fer5")]
    restricted /= restricted.sum(axis=1, keepdims=True)
    assert np.allclose(np.asarray(five(faces, training=False)), restricted, atol=1e-6)
    fresh = build_model(TINY.replace(preset="fer7"))
    assert transfer_classifier(five, fresh, "fer7") == ["probabilities"]  # five classes cannot fill seven


def test_a_network_of_another_width_cannot_serve_a_preset() -> None:
    with pytest.raises(ValueError, match="6-class network cannot serve preset fer5"):
        class_columns(6, "fer5")


@pytest.mark.parametrize(
    ("faces", "message"),
    [
        (None, "is None"),
        (np.zeros((48, 48), np.uint8), "wrap a single face"),
        (np.zeros((2, 48, 48, 5), np.uint8), "5 channels"),
        (np.zeros((2, 48, 48), np.complex64), "dtype complex64"),
        (np.zeros((2, 4, 4), np.uint8), "too small"),
    ],
)
def test_predict_rejects_bad_input(tiny_model: ExpressionModel, faces: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        tiny_model.predict(faces)  # type: ignore[arg-type]


def test_report_command_matches_scikit_learn(
    tmp_path: Path,
    tiny_model: ExpressionModel,
    fer_data_dir: Path,
    isolated_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model_path = tmp_path / "tiny.keras"
    tiny_model.network.model.save(model_path)
    out = tmp_path / "report"
    argv = ["report", "--data", str(fer_data_dir), "--model", str(model_path), "--preset", "fer5", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "precision" in printed and "recall" in printed and "f1-score" in printed and "support" in printed
    for name in ("report.json", "report.csv", "confusion.csv", "confusion.png"):
        assert (out / name).is_file(), name
    samples = load_fer2013(fer_data_dir / "fer2013" / "fer2013.csv").split("PrivateTest")
    truth, keep = get_preset("fer5").map_labels(samples.labels)
    predicted = ExpressionModel(tiny_model.network, "fer5").probabilities(samples.images[keep]).argmax(axis=1)
    expected = classification_report(
        truth,
        predicted,
        labels=list(range(5)),
        target_names=list(get_preset("fer5").classes),
        output_dict=True,
        zero_division=0,
    )
    written = json.loads((out / "report.json").read_text())
    assert written["accuracy"] == pytest.approx(expected["accuracy"])
    low, high = written["accuracy_ci95"]
    assert 0.0 <= low <= written["accuracy"] <= high <= 1.0 and low < high
    wilson = binomtest(int(np.sum(truth == predicted)), len(truth)).proportion_ci(method="wilson")
    assert (low, high) == pytest.approx((wilson.low, wilson.high))
    assert f"accuracy 95% interval (Wilson, {len(truth)} faces): {low:.4f} to {high:.4f}" in printed
    for name in get_preset("fer5").classes:
        for metric in ("precision", "recall", "f1-score", "support"):
            assert written["report"][name][metric] == pytest.approx(expected[name][metric])
    table = pd.read_csv(out / "report.csv", index_col="class")
    assert table.loc["macro avg", "f1-score"] == pytest.approx(expected["macro avg"]["f1-score"])


def test_report_on_a_labelled_folder(
    tmp_path: Path, tiny_model: ExpressionModel, fer_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = load_fer2013(fer_sample)
    names = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    for i, (face, label) in enumerate(zip(samples.images[:30], samples.labels[:30], strict=True)):
        folder = tmp_path / "faces" / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{i}.png"), face)
    (tmp_path / "faces" / "happy" / "broken.jpg").write_text("not an image")
    encoded = cv2.imencode(".jpg", samples.images[0])[1].tobytes()
    (tmp_path / "faces" / "sad" / "cut.jpg").write_bytes(encoded[: len(encoded) // 2])  # truncated: left out too
    model_path = tmp_path / "tiny.keras"
    tiny_model.network.model.save(model_path)
    out = tmp_path / "out"
    argv = ["report", "--folder", str(tmp_path / "faces"), "--model", str(model_path), "--out", str(out)]
    assert main([*argv, "--multiscale"]) == 0
    written = json.loads((out / "report.json").read_text())
    assert written["scales"] == list(MULTISCALE) and written["mirror_tta"]
    kept = int(np.isin(samples.labels[:30], [0, 1, 3, 4, 5]).sum())  # fer5 leaves Fear and Neutral out
    assert written["faces"] == kept
    assert sorted(Path(problem.split(":")[0]).name for problem in written["unreadable"]) == ["broken.jpg", "cut.jpg"]
    # The folder above the class folders: the error says which subfolders it found instead.
    assert main(["report", "--folder", str(tmp_path), "--model", str(model_path), "--out", str(tmp_path / "x")]) == 2
    assert "expected subfolders named after the classes Angry, Disgust, Sad, Happy, Surprise; found faces" in (
        capsys.readouterr().err
    )


def test_paired_counts_give_the_exact_mcnemar_test() -> None:
    truth = np.zeros(20, dtype=int)
    a, b = np.where(np.arange(20) < 12, 0, 1), np.where(np.arange(20) < 2, 0, 1)
    counts = paired_counts(truth, a, b)
    assert (counts["both_right"], counts["only_a_right"], counts["only_b_right"], counts["both_wrong"]) == (2, 10, 0, 8)
    assert counts["mcnemar_p"] == pytest.approx(2 * 0.5**10)  # two-sided: 10 of 10 discordant faces on one side
    assert paired_counts(truth, a, a)["mcnemar_p"] == 1.0


def test_compare_command_reads_both_models_on_the_selection_split(
    tmp_path: Path, tiny_model: ExpressionModel, fer_data_dir: Path, isolated_cache: Path
) -> None:
    other = build_model(TINY.replace(input_size=64))
    paths = [tmp_path / "a.keras", tmp_path / "b.keras"]
    tiny_model.network.model.save(paths[0])
    other.save(paths[1])
    out = tmp_path / "compare"
    assert main(["expressions", "compare", *map(str, paths), "--data", str(fer_data_dir), "--out", str(out)]) == 0
    written = json.loads((out / "compare.json").read_text())
    samples = load_fer2013(fer_data_dir / "fer2013" / "fer2013.csv")
    assert written["split"] == "PublicTest"
    predicted = []
    for network, row in zip((tiny_model.network, other), written["models"], strict=True):
        model = ExpressionModel(network, "fer5")
        part = preset_faces(samples, get_preset("fer5"), "PublicTest", model.size)
        predicted.append(model.probabilities(part.images).argmax(axis=1))
        assert row["input_size"] == model.size
        assert row["accuracy"] == pytest.approx(np.mean(predicted[-1] == part.targets))
    assert written == {**written, **paired_counts(part.targets, *predicted)}
    assert pd.read_csv(out / "compare.csv", index_col="name").loc["B", "input_size"] == 64
    # One model named twice, B read at seven zooms: a comparison of two readings of it.
    argv = ["expressions", "compare", str(paths[0]), str(paths[0]), "--data", str(fer_data_dir), "--multiscale-b"]
    assert main([*argv, "--out", str(out)]) == 0
    written = json.loads((out / "compare.json").read_text())
    assert written["scales"] == {"A": [1.0], "B": list(MULTISCALE)}
    assert [row["views"] for row in written["models"]] == [2, 14]
    part = preset_faces(samples, get_preset("fer5"), "PublicTest", tiny_model.size)
    multiscale = ExpressionModel(tiny_model.network, "fer5", scales=MULTISCALE).probabilities(part.images)
    assert written["models"][1]["accuracy"] == pytest.approx(np.mean(multiscale.argmax(axis=1) == part.targets))
