"""Every bad input is refused clearly, and the stage's earlier results survive.

Each test builds a small project in a temporary directory: a copy of params.yaml
(edited for the case), the inputs the stage reads and, already there, "earlier
results" in every place the stage writes. It runs the stage's main() in-process
and checks that the stage
  - exits with status 2 (errors.fail, as every stage's refusal does),
  - prints exactly one line on stderr, "error: ", naming the file and the key or fault,
  - leaves every file as it was: earlier results byte for byte, no new output,
    no leftover `.tmp-` file or directory of an atomic write.
Every path comes from study/data/paths.py, study/training/runs.py and
study/analysis/artifacts.py, as the stages' own do. No test trains a
model or imports TensorFlow: evaluate reads the trainings' predictions files, not
models, and `python -m study.predict` refuses a file that is not a Keras model
before TensorFlow is imported.
"""

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import yaml
from PIL import Image

from stages import augment, evaluate, fetch, kfold, prepare, seed_summary, train
from study import config, files, predict
from study.analysis import artifacts
from study.data import facts
from study.data import paths as data_paths
from study.data.splits import scale
from study.training import runs
from tests import tiny_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HISTORY_HEADER = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate\n"


# ---------------------------------------------------------------- helpers


def real_params():
    with open(os.path.join(ROOT, "params.yaml")) as stream:
        return yaml.safe_load(stream)


def write_params(root, edit=None):
    """params.yaml in `root`: the project's, changed by edit(params); returns the dict written."""
    values = real_params()
    if edit is not None:
        edit(values)
    with open(root / "params.yaml", "w") as stream:
        yaml.safe_dump(values, stream, sort_keys=False)
    return values


def put(root, relative, data):
    """Writes `data` (bytes or text) at root/relative, making its directories."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def earlier(relative):
    """Recognisable bytes of an earlier result that the failed stage must keep."""
    return f"earlier result {relative}, must survive a refused run\n".encode()


def put_earlier(root, *relatives):
    for relative in relatives:
        put(root, relative, earlier(relative))


def tiny_split(count, seed=0):
    labels = (np.arange(count) % 10).astype(np.uint8)
    return scale(tiny_data.make_images(labels, seed)), labels


TEST_SIZE = 20  # images of each tiny split, the test split's too


def put_prepared(root, names=("train", "val", "test")):
    for seed, name in enumerate(names):
        files.save_split(str(root / "data" / "prepared" / f"{name}.npz"), *tiny_split(TEST_SIZE, seed))


def snapshot(root):
    """{relative path: bytes of a file, or None for a directory} of everything under root."""
    tree = {}
    for directory, subdirectories, names in os.walk(root):
        for name in subdirectories:
            tree[os.path.relpath(os.path.join(directory, name), root)] = None
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as stream:
                tree[os.path.relpath(path, root)] = stream.read()
    return tree


def assert_refused(root, before, capsys, caught, *fragments):
    """One `error: ` line on stderr holding every fragment, exit status 2, nothing changed."""
    assert caught.value.code == 2, f"exit status {caught.value.code!r}"
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, repr(err)
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    after = snapshot(root)
    assert not [path for path in after if ".tmp-" in path], "a temporary file of an atomic write is left"
    assert sorted(after) == sorted(before), "files appeared or disappeared"
    changed = [path for path in before if after[path] != before[path]]
    assert changed == [], f"changed by the refused run: {changed}"
    return err.rstrip("\n")


def run_refused(root, capsys, stage_main, *fragments):
    before = snapshot(root)
    with pytest.raises(SystemExit) as caught:
        stage_main()
    return assert_refused(root, before, capsys, caught, *fragments)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    return tmp_path


# ---------------------------------------------------------------- params


SEED = 42  # the seed the train stage is run with in these tests


def slashed(paths):
    return [p.replace(os.sep, "/") for p in paths]


def train_outputs(variant, seed=SEED):
    """The four outputs of train@<variant>-<seed>: model, metrics, history, predictions."""
    outputs = slashed(runs.seed_run(variant, seed).values())
    assert f"predictions/train/{variant}/seed_{seed}.npz" in outputs
    return outputs


def delete_baseline_precision(p):
    del p["baseline"]["precision"]


PARAMS_CASES_TRAIN = [
    pytest.param(
        "nosuch",
        None,
        ["params.yaml: variants: no variant named 'nosuch' (known: baseline, "],
        id="unknown-variant",
    ),
    pytest.param(
        "baseline",
        lambda p: p["baseline"].update(epochs=0),
        ["params.yaml: baseline.epochs: expected a positive integer, got 0"],
        id="epochs-0",
    ),
    pytest.param(
        "baseline",
        lambda p: p["baseline"].update(batch_size="big"),
        ["params.yaml: baseline.batch_size: expected a positive integer, got 'big'"],
        id="batch-size-big",
    ),
    pytest.param(
        "baseline",
        delete_baseline_precision,
        ["params.yaml: baseline.precision: missing key, expected float32 or mixed_bfloat16"],
        id="missing-precision",
    ),
    pytest.param(
        "baseline",
        lambda p: p["baseline"].update(seed=42),  # a params.yaml of before `seeds`
        ["params.yaml: baseline.seed: unknown key (known: filters, "],
        id="old-baseline-seed",
    ),
    pytest.param(
        "baseline",
        lambda p: p["baseline"].update(strategy="tpu"),
        ["params.yaml: baseline.strategy: expected one of default, mirrored, multi_worker, got 'tpu'"],
        id="unknown-strategy",
    ),
    pytest.param(
        "kernel7",
        lambda p: p["variants"]["kernel7"].update(kernel_size=[7, 3]),
        ["params.yaml: variants.kernel7.kernel_size: unknown key (known: filters, kernel_sizes, "],
        id="unknown-override-key",
    ),
    pytest.param(
        "baseline",
        lambda p: p.update(protocol="nosuch"),
        ["params.yaml: protocol: no protocol named 'nosuch' (known: reproduce, fast)"],
        id="unknown-protocol",
    ),
    pytest.param(
        "baseline",
        lambda p: p.update(protocol="fast") or p["protocols"]["fast"].update(precision="float16"),
        ["params.yaml: protocols.fast.precision: expected float32 or mixed_bfloat16, got 'float16'"],
        id="bad-key-of-the-protocol",
    ),
    pytest.param(
        "baseline",
        lambda p: p["protocols"]["fast"].update(epoch=8),  # protocol: reproduce
        ["params.yaml: protocols.fast.epoch: unknown key (known: filters, "],
        id="bad-key-of-another-protocol",
    ),
    pytest.param(
        "baseline",
        lambda p: p["baseline"].update(lr_schedule={"warmup_epochs": 1, "decay": "step"}),
        ["params.yaml: baseline.lr_schedule: expected null, {drop_every_epochs: "],
        id="unknown-decay",
    ),
]


@pytest.mark.parametrize("variant, edit, fragments", PARAMS_CASES_TRAIN)
def test_train_refuses_bad_params(project, capsys, variant, edit, fragments):
    write_params(project, edit)
    put_prepared(project)
    put_earlier(project, *train_outputs("baseline"), *train_outputs("kernel7"))
    run_refused(project, capsys, lambda: train.main([variant, "--seed", str(SEED)]), *fragments)


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_train_refuses_a_seed_out_of_range(project, capsys, seed):
    write_params(project, None)
    put_prepared(project)
    put_earlier(project, *train_outputs("baseline"))
    run_refused(
        project,
        capsys,
        lambda: train.main(["baseline", "--seed", seed]),
        f"error: seed: expected an integer from 0 to {2**32 - 1}, got {seed}",
    )


def test_prepare_refuses_val_fraction_above_one(project, capsys):
    write_params(project, lambda p: p["prepare"].update(val_fraction=1.5))
    tiny_data.write_dataset(project / "data" / "raw", tiny_data.make_arrays(10, 3), compress=False)
    put_earlier(project, "data/prepared/train.npz", "data/prepared/val.npz", "data/prepared/test.npz")
    run_refused(
        project,
        capsys,
        prepare.main,
        "params.yaml: prepare.val_fraction: expected a number strictly between 0 and 1, got 1.5",
    )


KFOLD_EARLIER = slashed(runs.fold_run(0).values())


def test_kfold_refuses_a_fold_past_n_splits(project, capsys):
    write_params(project, lambda p: p["kfold"].update(n_splits=5, folds=[0, 1, 2, 3, 4]))
    put_prepared(project)
    put_earlier(project, *KFOLD_EARLIER)
    run_refused(
        project,
        capsys,
        lambda: kfold.main(["7"]),
        "params.yaml: kfold.n_splits: fold 7 (the command's argument) does not exist with n_splits 5 "
        "(folds are 0 to 4)",
    )


def test_kfold_refuses_a_listed_fold_past_n_splits(project, capsys):
    write_params(project, lambda p: p["kfold"].update(n_splits=5, folds=[0, 5]))
    put_prepared(project)
    put_earlier(project, *KFOLD_EARLIER)
    run_refused(
        project,
        capsys,
        lambda: kfold.main(["0"]),
        "params.yaml: kfold.folds: fold 5 does not exist with n_splits 5 (folds are 0 to 4)",
    )


def evaluate_earlier(names):
    """Earlier outputs of the evaluate stage: its details, the figures, two selected models'
    confusion files."""
    assert slashed([artifacts.evaluate_details()]) == ["metrics/details/evaluate.json"]
    return (
        ["metrics/details/evaluate.json", "plots/figures/evaluate/loss_curves.png"]
        + [f"plots/confusion/{name}.csv" for name in names[:2]]
        + [f"plots/figures/evaluate/confusion_{name}.png" for name in names[:2]]
    )


def predictions_path(name, seed):
    return slashed([runs.seed_run(name, seed)["predictions"]])[0]


def put_predictions(root, name, seed, count=TEST_SIZE):
    """A real predictions file of `count` answers, as the train stage writes it."""
    probabilities = np.random.default_rng(seed).dirichlet(np.ones(10), size=count)
    path = root / predictions_path(name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_predictions(str(path), probabilities)


def put_evaluate_inputs(root, names, seeds):
    """What evaluate reads, for every variant: seed summaries, histories, test split, each seed's predictions.

    No model file: evaluate reads none, so a clone without DVC's cache reruns it.
    """
    for i, name in enumerate(names):
        put(
            root,
            slashed([artifacts.variant_summary(name)])[0],
            json.dumps(
                {
                    "seeds": seeds,
                    "val_accuracy": 0.5 + i / 100,
                    "val_accuracy_sd": 0.01,
                    "train_accuracy": 0.6,
                    "epochs": 1,
                }
            )
            + "\n",
        )
        put(root, slashed([artifacts.variant_history(name)])[0], HISTORY_HEADER + "1,0.9,0.6,0.8,0.5,0.001\n")
        for seed in seeds:
            put_predictions(root, name, seed)
    put_prepared(root, ("test",))


BAD_SEEDS = [
    pytest.param([], "got []", id="no-seed"),
    pytest.param([1, 1], "got [1, 1]", id="same-seed-twice"),
    pytest.param([1, -1], "got [1, -1]", id="negative-seed"),
    pytest.param("42", "got '42'", id="not-a-list"),
    pytest.param([2**32], f"got [{2**32}]", id="seed-above-32-bits"),
]


@pytest.mark.parametrize("seeds, got", BAD_SEEDS)
def test_evaluate_refuses_bad_seeds(project, capsys, seeds, got):
    names = config.Study(write_params(project)).variant_names
    put_evaluate_inputs(project, names, [42])
    put_earlier(project, *evaluate_earlier(names))
    write_params(project, lambda p: p.update(seeds=seeds))
    run_refused(
        project,
        capsys,
        evaluate.main,
        "error: params.yaml: seeds: expected a non-empty list of distinct integers "
        f"from 0 to {2**32 - 1}, {got}",
    )


def test_evaluate_refuses_missing_predictions_of_one_seed(project, capsys):
    # The summaries were made with seeds [42]; params.yaml now also lists 43, not trained yet.
    names = config.Study(write_params(project, lambda p: p.update(seeds=[42, 43]))).variant_names
    put_evaluate_inputs(project, names, [42])
    put_earlier(project, *evaluate_earlier(names))
    run_refused(
        project,
        capsys,
        evaluate.main,
        f"error: predictions/train/{names[0]}/seed_43.npz: missing "
        "(run `dvc repro` to train the model that writes it)",
    )


def test_evaluate_refuses_select_from_naming_no_variant(project, capsys):
    study = config.Study(real_params())  # its variants and seeds, which the edit leaves as they are
    write_params(project, lambda p: p["evaluate"].update(select_from=["baseline", "ghost"]))
    names = study.variant_names
    put_evaluate_inputs(project, names, study.seeds)
    put_earlier(project, *evaluate_earlier(names))
    run_refused(
        project,
        capsys,
        evaluate.main,
        "params.yaml: evaluate.select_from: no variant named 'ghost' (known: baseline, ",
    )


AUGMENT_EARLIER = slashed(
    [data_paths.augmented("baseline_aug"), data_paths.augmentation_figure("baseline_aug")]
)


def test_augment_refuses_an_unknown_preset(project, capsys):
    write_params(project, lambda p: p["augmented_variants"]["baseline_aug"].update(augmentation="nosuch"))
    put_prepared(project, ("train",))
    put_earlier(project, *AUGMENT_EARLIER)
    run_refused(
        project,
        capsys,
        lambda: augment.main(["baseline_aug"]),
        "params.yaml: augmentations: no augmentation named 'nosuch' (known: rotate_vflip_noise, ",
    )


@pytest.mark.parametrize("name", ["nosuch", "baseline", "rotate_vflip_noise"])
def test_augment_refuses_a_name_that_is_no_augmented_variant(project, capsys, name):
    # The stage takes an augmented variant's name: not a plain variant's, nor a preset's (as it once did).
    values = write_params(project)
    known = ", ".join(values["augmented_variants"])  # params.yaml's own, in its order
    assert known.startswith("baseline_aug") and "baseline" not in values["augmented_variants"]
    put_prepared(project, ("train",))
    put_earlier(project, *AUGMENT_EARLIER)
    run_refused(
        project,
        capsys,
        lambda: augment.main([name]),
        f"error: params.yaml: augmented_variants: no augmented variant named {name!r} (known: {known})",
    )


# ---------------------------------------------------------------- seed_summary


def seed_summary_earlier(names):
    """Every output of seed_summary: each variant's summary and mean history, and the long table of curves."""
    earlier_outputs = (
        [f"metrics/details/train/{n}.json" for n in names]
        + [f"plots/history/{n}.csv" for n in names]
        + ["plots/curves.csv"]
    )
    assert earlier_outputs == slashed(
        [*map(artifacts.variant_summary, names), *map(artifacts.variant_history, names), artifacts.CURVES]
    )
    return earlier_outputs


def put_seed_outputs(root, names, seeds):
    """The per-seed files of the train stages, for every variant and seed."""
    for name in names:
        for seed in seeds:
            put(
                root,
                f"metrics/seeds/{name}/seed_{seed}.json",
                json.dumps({"train_accuracy": 0.6, "val_accuracy": 0.5, "epochs": 1}) + "\n",
            )
            put(root, f"plots/seeds/{name}/seed_{seed}.csv", HISTORY_HEADER + "1,0.9,0.6,0.8,0.5,0.001\n")


@pytest.mark.parametrize("seeds, got", BAD_SEEDS)
def test_seed_summary_refuses_bad_seeds(project, capsys, seeds, got):
    names = config.Study(write_params(project)).variant_names
    write_params(project, lambda p: p.update(seeds=seeds))
    put_seed_outputs(project, names, [1, 42])
    put_earlier(project, *seed_summary_earlier(names))
    run_refused(
        project,
        capsys,
        seed_summary.main,
        "error: params.yaml: seeds: expected a non-empty list of distinct integers "
        f"from 0 to {2**32 - 1}, {got}",
    )


def test_seed_summary_refuses_a_missing_seed_of_one_variant(project, capsys):
    names = config.Study(write_params(project, lambda p: p.update(seeds=[1, 2]))).variant_names
    put_seed_outputs(project, names, [1, 2])
    put_earlier(project, *seed_summary_earlier(names))
    os.remove(project / "metrics" / "seeds" / "sgd" / "seed_2.json")
    run_refused(project, capsys, seed_summary.main, "error: metrics/seeds/sgd/seed_2.json: missing (")


def test_seed_summary_refuses_histories_of_different_lengths(project, capsys):
    names = config.Study(write_params(project, lambda p: p.update(seeds=[1, 2]))).variant_names
    put_seed_outputs(project, names, [1, 2])
    put(
        project,
        "plots/seeds/kernel7/seed_2.csv",
        HISTORY_HEADER + "1,0.9,0.6,0.8,0.5,0.001\n2,0.8,0.7,0.7,0.6,0.001\n",
    )
    put_earlier(project, *seed_summary_earlier(names))
    run_refused(
        project,
        capsys,
        seed_summary.main,
        "error: plots/seeds/kernel7/: the seeds' histories have different numbers of epochs [1, 2]",
    )


# ---------------------------------------------------------------- data: fetch

RAW_EARLIER = [f"data/raw/{name}" for name in facts.IDX_FILES]


def fetch_project(root):
    """A source directory of tiny .gz IDX files, params.yaml pointing at it with their sums,
    earlier data/raw/."""
    checksums = tiny_data.write_dataset(root / "source")
    write_params(root, lambda p: p["data"].update(source_dir="source", sha256=checksums))
    put_earlier(root, *RAW_EARLIER)
    return checksums


def test_fetch_refuses_a_file_of_the_wrong_checksum(project, capsys):
    checksums = fetch_project(project)
    path = project / "source" / "train-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 1  # one label changed: a valid gzip and IDX file, but not the one params.yaml names
    path.write_bytes(gzip.compress(bytes(raw)))
    run_refused(
        project,
        capsys,
        fetch.main,
        f"error: source/train-labels-idx1-ubyte.gz: sha256 of the decompressed bytes is "
        f"{hashlib.sha256(bytes(raw)).hexdigest()}, expected {checksums['train-labels-idx1-ubyte']}",
    )


def test_fetch_refuses_a_missing_file(project, capsys):
    fetch_project(project)
    os.remove(project / "source" / "t10k-images-idx3-ubyte.gz")
    run_refused(
        project,
        capsys,
        fetch.main,
        "error: source/t10k-images-idx3-ubyte.gz: missing "
        "(nor is the uncompressed t10k-images-idx3-ubyte there)",
    )


# ---------------------------------------------------------------- data: prepare


def truncate(raw):
    return raw[:-100]


def wrong_magic(raw):
    return (0x801).to_bytes(4, "big") + raw[4:]  # the labels' magic number on an images file


def images_27x28(arrays):
    arrays["train-images-idx3-ubyte"] = arrays["train-images-idx3-ubyte"][:, :27, :]


def label_10(arrays):
    arrays["t10k-labels-idx1-ubyte"][7] = 10


def five_more_labels(arrays):
    labels = arrays["train-labels-idx1-ubyte"]
    arrays["train-labels-idx1-ubyte"] = np.concatenate([labels, labels[:5]])


PREPARE_CASES = [
    pytest.param(
        None,
        ("train-images-idx3-ubyte", truncate),
        ["data/raw/train-images-idx3-ubyte: truncated: 78316 bytes, the header (100, 28, 28) needs 78416"],
        id="truncated-images",
    ),
    pytest.param(
        None,
        ("t10k-images-idx3-ubyte", wrong_magic),
        ["data/raw/t10k-images-idx3-ubyte: magic number 2049, expected 2051"],
        id="wrong-magic",
    ),
    pytest.param(
        images_27x28,
        None,
        ["data/raw/train-images-idx3-ubyte: images of 27x28 pixels, expected 28x28"],
        id="27x28-images",
    ),
    pytest.param(
        label_10,
        None,
        ["data/raw/t10k-labels-idx1-ubyte: label 10 at index 7 (1 labels outside 0-9)"],
        id="label-10",
    ),
    pytest.param(five_more_labels, None, ["data/raw/train-*: 100 images but 105 labels"], id="5-more-labels"),
]


@pytest.mark.parametrize("edit_arrays, edit_bytes, fragments", PREPARE_CASES)
def test_prepare_refuses_a_bad_raw_file(project, capsys, edit_arrays, edit_bytes, fragments):
    write_params(project)
    arrays = tiny_data.make_arrays(train_per_class=10, test_per_class=3)
    if edit_arrays is not None:
        edit_arrays(arrays)
    tiny_data.write_dataset(project / "data" / "raw", arrays, compress=False)
    if edit_bytes is not None:
        name, edit = edit_bytes
        path = project / "data" / "raw" / name
        path.write_bytes(edit(path.read_bytes()))
    put_earlier(project, "data/prepared/train.npz", "data/prepared/val.npz", "data/prepared/test.npz")
    run_refused(project, capsys, prepare.main, *fragments)


# ---------------------------------------------------------------- data: train


def train_data_project(root):
    write_params(root)
    put_prepared(root)
    put_earlier(root, *train_outputs("baseline"))


def test_train_refuses_a_missing_train_split(project, capsys):
    train_data_project(project)
    os.remove(project / "data" / "prepared" / "train.npz")
    run_refused(
        project,
        capsys,
        lambda: train.main(["baseline", "--seed", str(SEED)]),
        "error: data/prepared/train.npz: missing (run `dvc repro` to make it)",
    )


def test_train_refuses_a_missing_test_split(project, capsys):
    # The train stage records the trained model's answers on the test set: without it,
    # it refuses before training.
    train_data_project(project)
    os.remove(project / "data" / "prepared" / "test.npz")
    run_refused(
        project,
        capsys,
        lambda: train.main(["baseline", "--seed", str(SEED)]),
        "error: data/prepared/test.npz: missing (run `dvc repro` to make it)",
    )


def test_train_refuses_a_validation_split_that_is_text(project, capsys):
    train_data_project(project)
    put(project, "data/prepared/val.npz", "x,y\n0.5,3\n")
    run_refused(
        project,
        capsys,
        lambda: train.main(["baseline", "--seed", str(SEED)]),
        "error: data/prepared/val.npz: not a split with arrays x and y (",
    )


def test_train_refuses_an_empty_validation_split(project, capsys):
    train_data_project(project)
    put(project, "data/prepared/val.npz", b"")
    run_refused(
        project,
        capsys,
        lambda: train.main(["baseline", "--seed", str(SEED)]),
        "error: data/prepared/val.npz: not a split with arrays x and y (",
    )


def test_train_refuses_a_cut_off_train_split(project, capsys):
    train_data_project(project)
    path = project / "data" / "prepared" / "train.npz"
    path.write_bytes(path.read_bytes()[:5000])  # a copy interrupted half-way
    run_refused(
        project,
        capsys,
        lambda: train.main(["baseline", "--seed", str(SEED)]),
        "error: data/prepared/train.npz: not a split with arrays x and y (",
    )


# ---------------------------------------------------------------- predictions: evaluate


def evaluate_predictions_project(root):
    """Every input of evaluate for every variant and seed; the first predictions file read gets the fault."""
    study = config.Study(write_params(root))
    names, seeds = study.variant_names, study.seeds
    put_evaluate_inputs(root, names, seeds)
    put_earlier(root, *evaluate_earlier(names))
    return names[0], seeds[0], predictions_path(names[0], seeds[0])


def test_evaluate_refuses_a_missing_predictions_file(project, capsys):
    _, _, predictions = evaluate_predictions_project(project)
    os.remove(project / predictions)
    run_refused(
        project,
        capsys,
        evaluate.main,
        f"error: {predictions}: missing (run `dvc repro` to train the model that writes it)",
    )


def npz_without_probabilities():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, predicted=np.zeros(TEST_SIZE, dtype=np.uint8))
    return buffer.getvalue()


def a_zip_of_text():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", "{}")  # a zip archive, as a .keras model is: not a predictions file
    return buffer.getvalue()


NOT_PREDICTIONS = [
    pytest.param(lambda path: "this is a text file, not predictions\n", id="text"),
    pytest.param(lambda path: b"", id="empty"),
    pytest.param(lambda path: path.read_bytes()[:200], id="cut-off"),  # a copy interrupted half-way
    pytest.param(lambda path: npz_without_probabilities(), id="no-probabilities"),
    pytest.param(lambda path: a_zip_of_text(), id="zip-of-a-model-config"),
]


@pytest.mark.parametrize("content", NOT_PREDICTIONS)
def test_evaluate_refuses_a_predictions_file_that_is_not_one(project, capsys, content):
    _, _, predictions = evaluate_predictions_project(project)
    put(project, predictions, content(project / predictions))
    run_refused(project, capsys, evaluate.main, f"error: {predictions}: not a predictions file (")


def test_evaluate_refuses_predictions_of_another_test_set(project, capsys):
    # Answers recorded on a test set of another size (an older prepare): not these images' answers.
    name, seed, predictions = evaluate_predictions_project(project)
    put_predictions(project, name, seed, count=TEST_SIZE - 1)
    run_refused(
        project,
        capsys,
        evaluate.main,
        f"error: {predictions}: {TEST_SIZE - 1} answers, the test set has {TEST_SIZE} images",
    )


def test_evaluate_refuses_predictions_of_the_wrong_shape(project, capsys):
    _, _, predictions = evaluate_predictions_project(project)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        predicted=np.zeros(TEST_SIZE, dtype=np.uint8),
        probabilities=np.full((TEST_SIZE, 3), 1 / 3, dtype=np.float16),
    )
    put(project, predictions, buffer.getvalue())
    run_refused(
        project,
        capsys,
        evaluate.main,
        f"error: {predictions}: predicted ({TEST_SIZE},) and probabilities ({TEST_SIZE}, 3), "
        "expected (N,) and (N, 10)",
    )


def test_evaluate_run_as_a_program_prints_one_line_for_a_file_that_is_not_predictions(tmp_path):
    study = config.Study(write_params(tmp_path))
    names, seeds = study.variant_names, study.seeds
    put_evaluate_inputs(tmp_path, names, seeds)
    predictions = predictions_path(names[0], seeds[0])
    put(tmp_path, predictions, "this is a text file, not predictions\n")
    environment = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        [sys.executable, "-m", "stages.evaluate"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {predictions}: not a predictions file (")


# ---------------------------------------------------------------- models: study.predict


def predict_project(root):
    """params.yaml, one image to classify and the path of the first seed's baseline model (not written)."""
    study = config.Study(write_params(root))
    Image.fromarray(tiny_data.make_images(np.array([3], dtype=np.uint8))[0]).save(root / "shirt.png")
    return f"models/train/baseline/seed_{study.seeds[0]}.keras"


def test_predict_refuses_a_model_that_is_not_keras(project, capsys):
    model = predict_project(project)
    put(project, model, "this is a text file, not a model\n")
    run_refused(
        project,
        capsys,
        lambda: sys.exit(predict.main(["shirt.png", "--model", "baseline"])),
        f"error: {model}: not a Keras model (a .keras file is a zip archive, this one is not)",
    )


def test_predict_refuses_a_keras_path_that_is_not_keras(project, capsys):
    predict_project(project)
    put(project, "mine.keras", b"")
    run_refused(
        project,
        capsys,
        lambda: sys.exit(predict.main(["shirt.png", "--model", "mine.keras"])),
        "error: mine.keras: not a Keras model (a .keras file is a zip archive, this one is not)",
    )


# Importing TensorFlow 2.21 writes C++ log lines (oneDNN notice, absl warning) to
# stderr, even with TF_CPP_MIN_LOG_LEVEL=3, so the model file is checked first.
def test_predict_run_as_a_program_prints_one_line_for_a_model_that_is_not_keras(tmp_path):
    model = predict_project(tmp_path)
    put(tmp_path, model, "this is a text file, not a model\n")
    environment = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        [sys.executable, "-m", "study.predict", "shirt.png", "--model", "baseline"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {model}: not a Keras model (")
