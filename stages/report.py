"""Stage report: the study report, every table of the seed beside its published numbers.

    python -m stages.report

Reads params.yaml (`evaluate`, `seeds`, the variant lists, `augmentations`),
reports/seed_numbers.yaml (the seed's published numbers) and the files of the
other stages:
  metrics/train/<variant>.json    the training figures, mean and sd over the seeds
  metrics/evaluate.json           the selected models, test accuracy per seed, per-class metrics
  plots/confusion/<variant>.csv   seed,actual,predicted for every test image and seed
  metrics/kfold.json, plots/kfold_confusion/{best,ensemble}.csv   the k-fold models
Writes reports/study.md (Tables 1-5 as mean ± sd over the seeds, Figures 1-3,
computed findings) and metrics/study.json (the headline figures).

Statistics. A test accuracy is the mean over the seeds, with a 95% percentile
bootstrap interval over the test images (each image's correctness averaged over
the seeds) and each seed model's 95% Wilson interval. Two models are compared
seed by seed (seed s of one against seed s of the other) with McNemar's exact
test on the same test images, and by a paired bootstrap interval of the mean
difference. A difference is called significant at 0.05 when that interval
excludes 0 and McNemar's test is significant, in the same direction, in most seeds.
"""

import os

import numpy as np
import yaml

from stages import files, params
from stages.evaluation import read_json
from stages.fashion_mnist import CLASS_NAMES
from stages.files import DataError
from stages.statistics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    bootstrap_mean_interval,
    mcnemar_exact,
    welch_test,
    wilson_interval,
)

SEED_NUMBERS = os.path.join("reports", "seed_numbers.yaml")
REPORT = os.path.join("reports", "study.md")
STUDY_METRICS = os.path.join("metrics", "study.json")
SIGNIFICANCE = 0.05
TRAIN_KEYS = ("train_accuracy", "train_accuracy_running", "val_accuracy")
KFOLD_KEYS = ("train_accuracy_mean", "train_accuracy_sd", "val_accuracy_mean", "val_accuracy_sd",
              "best_fold_train_accuracy", "best_fold_val_accuracy")
PER_CLASS_KEYS = ("precision", "recall", "f1")


# Checking what the other stages wrote: each fault is a DataError naming the file.
def require(value, keys, where, fix, numbers=(), optional=()):
    """`value` must be a mapping holding `keys`; those of `numbers` numbers (or null, if in `optional`)."""
    if not isinstance(value, dict):
        raise DataError(f"{where}: expected a mapping, got {type(value).__name__} ({fix})")
    for key in (*keys, *numbers):
        if key not in value:
            raise DataError(f"{where}: no {key} ({fix})")
    for key in numbers:
        if not (params._is_number(value[key]) or (key in optional and value[key] is None)):
            raise DataError(f"{where}: {key} is {value[key]!r}, expected a number ({fix})")
    return value


def _read_rows(path, header):
    """The rows of a CSV of class names under `header`, every row checked."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to make it)")
    with open(path) as stream:
        found = stream.readline().strip()
        if found != header:
            raise DataError(f"{path}: header {found!r}, expected {header!r}")
        rows = [line.rstrip("\n").split(",") for line in stream if line.strip()]
    width = len(header.split(","))
    for line_number, row in enumerate(rows, start=2):
        if len(row) != width or not set(row[-2:]) <= set(CLASS_NAMES):
            raise DataError(f"{path}: line {line_number}: {','.join(row)!r}, expected {header} with class names")
    if len(rows) < 2:
        raise DataError(f"{path}: {len(rows)} row(s), expected one per test image")
    return rows


def read_correct(path):
    """A single model's answers (`actual,predicted`): the actual classes, and correctness as one row."""
    rows = _read_rows(path, "actual,predicted")
    return np.array([actual for actual, _ in rows]), np.array([[actual == predicted for actual, predicted in rows]])


def read_seed_correct(path, seeds):
    """A model's answers per seed (`seed,actual,predicted`): the actual classes, and correctness, one row per seed.

    The rows come seed by seed in the order of params.yaml `seeds`, the same test
    images in the same order for every seed, so that seed s of two models pairs image by image.
    """
    rows = _read_rows(path, "seed,actual,predicted")
    found = list(dict.fromkeys(row[0] for row in rows))
    expected = [str(seed) for seed in seeds]
    if found != expected:
        raise DataError(f"{path}: seeds {', '.join(found)}, expected {', '.join(expected)} as in params.yaml "
                        "(run `dvc repro evaluate`)")
    count = len(rows) // len(seeds)
    if len(rows) != count * len(seeds) or [row[0] for row in rows] != [s for s in expected for _ in range(count)]:
        counts = [sum(row[0] == s for row in rows) for s in expected]
        raise DataError(f"{path}: expected the rows seed by seed, the same number of test images for each; "
                        f"found {counts} rows for seeds {', '.join(expected)}")
    table = np.array(rows).reshape(len(seeds), count, 3)
    actual, predicted = table[:, :, 1], table[:, :, 2]
    if (actual != actual[0]).any():
        raise DataError(f"{path}: the seeds' rows are not the same test images (the actual classes differ)")
    if count < 2:
        raise DataError(f"{path}: {count} test image per seed, expected one row per test image")
    return actual[0], actual == predicted


def read_seed_numbers():
    if not os.path.isfile(SEED_NUMBERS):
        raise DataError(f"{SEED_NUMBERS}: missing (the seed's published numbers)")
    try:
        with open(SEED_NUMBERS) as stream:
            seed = yaml.safe_load(stream)
    except yaml.YAMLError as error:
        raise DataError(f"{SEED_NUMBERS}: not valid YAML: {' '.join(str(error).split())}") from None
    fix = "the seed's published numbers, as the file's comments describe"
    require(seed, ("table1", "table2", "table3", "table4", "table5"), SEED_NUMBERS, fix)
    for key in ("table1", "table2", "table3", "table4", "table5"):
        require(seed[key], (), f"{SEED_NUMBERS}: {key}", fix)
    for key in ("baseline", "kfold_lr"):
        require(seed["table5"][key], (), f"{SEED_NUMBERS}: table5.{key}", fix,
                numbers=("train_accuracy", "val_accuracy", "test_accuracy"))
    return seed


# Formatting.
def number(value, digits=4):
    return "—" if value is None else f"{value:.{digits}f}"


def mean_sd(mean, sd):
    """`mean ± sd`, or the mean alone where there is no sd (one seed)."""
    return f"{mean:.4f}" if sd is None else f"{mean:.4f} ± {sd:.4f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def p_text(p_value):
    return f"p = {p_value:.3g}" if p_value >= 0.001 else "p < 0.001"


def plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def per_seed_p(comparison):
    return "; ".join(f"seed {test['seed']}: {p_text(test['p_value'])}" for test in comparison["tests"])


def difference_text(comparison):
    return f"{comparison['difference']:+.4f} [{comparison['low']:+.4f}, {comparison['high']:+.4f}]"


def significance_sentence(comparison):
    """One plain sentence: whether the difference of two models is significant at 0.05, and why."""
    c = comparison
    seeds = f"McNemar's exact test significant at 0.05 in {c['seeds_significant']} of {plural(c['n'], 'seed')}"
    if c["seeds_reversed"]:
        seeds += f" (and in {c['seeds_reversed']} the other way)"
    interval = (f"the mean difference {c['a']} − {c['b']} {difference_text(c)} "
                f"{'excludes' if c['excludes_zero'] else 'includes'} 0")
    if c["significant"]:
        better, worse = (c["a"], c["b"]) if c["difference"] > 0 else (c["b"], c["a"])
        return f"Significant at 0.05, {better} better than {worse}: {seeds} ({per_seed_p(c)}), and {interval}."
    return f"Not significant at 0.05: {seeds} ({per_seed_p(c)}); {interval}."


class Study:
    """Everything the report is made from, read and checked once."""

    def __init__(self, all_params):
        self.params = all_params
        self.names = params.variant_names(all_params)
        settings = params.evaluate_params(all_params)
        self.seeds = params.seeds(all_params)
        if "baseline" not in self.names:
            raise params.ParamsError(f"{params.PARAMS_FILE}: variants.baseline: missing (the report compares "
                                     "every choice task with it)")
        self.study_variants = settings["select_from"]
        self.compared = settings["compare_with_baseline"]
        self.train = {n: self._read_train(n) for n in self.names}
        self.evaluate = self._read_evaluate()
        self.kfold = self._read_kfold()
        self.correct, self.labels = {}, {}
        first = None
        for name in self.names:
            path = os.path.join("plots", "confusion", f"{name}.csv")
            actual, self.correct[name] = read_seed_correct(path, self.seeds)
            first = self._check_same_images(path, actual, first)
            self.labels[name] = [str(seed) for seed in self.seeds]
            self._check_against_evaluate(name, path)
        for kind in ("best", "ensemble"):
            path = os.path.join("plots", "kfold_confusion", f"{kind}.csv")
            actual, self.correct[f"kfold_{kind}"] = read_correct(path)
            first = self._check_same_images(path, actual, first)
            self.labels[f"kfold_{kind}"] = None
        self.seed = read_seed_numbers()
        self._intervals, self._comparisons = {}, {}

    # Reading and checking.
    def _read_train(self, name):
        path = os.path.join("metrics", "train", f"{name}.json")
        fix = "run `dvc repro seed_summary`"
        metrics = require(read_json(path), ("seeds",), path, fix, numbers=(*TRAIN_KEYS, *(f"{k}_sd" for k in TRAIN_KEYS)),
                          optional={f"{k}_sd" for k in TRAIN_KEYS})
        if metrics["seeds"] != self.seeds:
            raise DataError(f"{path}: seeds {metrics['seeds']}, params.yaml has {self.seeds} ({fix})")
        return metrics

    def _read_evaluate(self):
        path = os.path.join("metrics", "evaluate.json")
        fix = "run `dvc repro evaluate`"
        evaluate = require(read_json(path), ("selected", "seeds", "models"), path, fix)
        if evaluate["seeds"] != self.seeds:
            raise DataError(f"{path}: seeds {evaluate['seeds']}, params.yaml has {self.seeds} ({fix})")
        selected = evaluate["selected"]
        if not isinstance(selected, list) or not selected or not set(selected) <= set(self.names):
            raise DataError(f"{path}: selected is {selected!r}, expected a list of variant names ({fix})")
        require(evaluate["models"], self.names, f"{path}: models", fix)
        for name in self.names:
            model = require(evaluate["models"][name], ("test_accuracy_per_seed",), f"{path}: models.{name}", fix)
            require(model["test_accuracy_per_seed"], (), f"{path}: models.{name}.test_accuracy_per_seed", fix,
                    numbers=[str(seed) for seed in self.seeds])
        for name in selected:
            per_class = require(evaluate["models"][name], ("per_class",), f"{path}: models.{name}", fix)["per_class"]
            require(per_class, CLASS_NAMES, f"{path}: models.{name}.per_class", fix)
            for class_name in CLASS_NAMES:
                require(per_class[class_name], (), f"{path}: models.{name}.per_class.{class_name}", fix,
                        numbers=PER_CLASS_KEYS)
        return evaluate

    def _read_kfold(self):
        path = os.path.join("metrics", "kfold.json")
        fix = "run `dvc repro kfold_summary`"
        kfold = require(read_json(path), ("variant", "n_splits", "folds", "best_fold"), path, fix, numbers=KFOLD_KEYS)
        if not isinstance(kfold["folds"], list) or not kfold["folds"]:
            raise DataError(f"{path}: folds is {kfold['folds']!r}, expected a list of folds ({fix})")
        for i, fold in enumerate(kfold["folds"]):
            require(fold, ("fold",), f"{path}: folds[{i}]", fix, numbers=("train_accuracy", "val_accuracy"))
        return kfold

    @staticmethod
    def _check_same_images(path, actual, first):
        """Every model must answer on the same test images in the same order, or no pairing holds."""
        if first is None:
            return path, actual
        first_path, first_actual = first
        if actual.shape != first_actual.shape or (actual != first_actual).any():
            raise DataError(f"{path}: not the test images of {first_path} (run `dvc repro evaluate kfold_summary`)")
        return first

    def _check_against_evaluate(self, name, path):
        recorded = self.evaluate["models"][name]["test_accuracy_per_seed"]
        for seed, accuracy in zip(self.seeds, self.correct[name].mean(axis=1)):
            if abs(recorded[str(seed)] - accuracy) > 1e-6:
                raise DataError(f"{path}: seed {seed} is right on {accuracy:.4f} of the images, metrics/evaluate.json "
                                f"says {recorded[str(seed)]:.4f} (run `dvc repro evaluate`)")

    # Test accuracies.
    @property
    def n_images(self):
        return self.correct["baseline"].shape[1]

    def test_accuracy(self, name):
        """The mean over seeds (the accuracy of a single model)."""
        return float(self.correct[name].mean())

    def test_sd(self, name):
        accuracies = self.correct[name].mean(axis=1)
        return float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else None

    def interval(self, name):
        """95% bootstrap interval over the test images of the seed-mean accuracy."""
        if name not in self._intervals:
            self._intervals[name] = bootstrap_mean_interval(self.correct[name].mean(axis=0))
        return self._intervals[name]

    def with_interval(self, name):
        low, high = self.interval(name)
        return f"{mean_sd(self.test_accuracy(name), self.test_sd(name))} [{low:.4f}, {high:.4f}]"

    def wilson(self, name):
        """Each seed model's accuracy and 95% Wilson interval: [(seed, accuracy, low, high)]."""
        rows = self.correct[name]
        return [(label, float(row.mean()), *wilson_interval(row.sum(), row.size))
                for label, row in zip(self.labels[name] or ["—"], rows)]

    def wilson_text(self, name, with_seed=True):
        return "; ".join((f"{label}: " if with_seed else "") + f"{accuracy:.4f} [{low:.4f}, {high:.4f}]"
                         for label, accuracy, low, high in self.wilson(name))

    # Comparisons.
    def compare(self, name_a, name_b):
        """Model A against model B on the same test images: McNemar per seed, paired bootstrap of the difference.

        Seed s of A is paired with seed s of B; a single model (a k-fold model) with each seed of the other.
        """
        if (name_a, name_b) not in self._comparisons:
            a, b = self.correct[name_a], self.correct[name_b]
            count = max(len(a), len(b))
            a, b = np.broadcast_to(a, (count, a.shape[1])), np.broadcast_to(b, (count, b.shape[1]))
            labels = self.labels[name_a] or self.labels[name_b] or ["—"] * count
            tests = [{"seed": label, **mcnemar_exact(x, y)} for label, x, y in zip(labels, a, b)]
            per_image = (a.astype(float) - b).mean(axis=0)
            difference = float(per_image.mean())
            low, high = bootstrap_mean_interval(per_image)
            direction = np.sign(difference)
            significant_tests = [t for t in tests if t["p_value"] < SIGNIFICANCE]
            same = sum(direction != 0 and np.sign(t["only_a_correct"] - t["only_b_correct"]) == direction
                       for t in significant_tests)
            excludes_zero = low > 0 or high < 0
            self._comparisons[name_a, name_b] = {
                "a": name_a, "b": name_b, "n": count, "tests": tests,
                "difference": difference, "low": low, "high": high, "excludes_zero": excludes_zero,
                "seeds_significant": int(same), "seeds_reversed": len(significant_tests) - int(same),
                "significant": bool(excludes_zero and same > count / 2),
            }
        return self._comparisons[name_a, name_b]

    def validation(self, name):
        metrics = self.train[name]
        return metrics["val_accuracy"], metrics["val_accuracy_sd"]

    def welch_validation(self, name_a, name_b):
        """Welch's t-test of two variants' validation accuracies over the seeds; None with one seed."""
        (mean_a, sd_a), (mean_b, sd_b) = self.validation(name_a), self.validation(name_b)
        count = len(self.seeds)
        return welch_test(mean_a, sd_a, count, mean_b, sd_b, count)


def seeds_note(study):
    if len(study.seeds) == 1:
        return f"one seed ({study.seeds[0]}), so no sd"
    return f"mean ± sample sd over the {len(study.seeds)} seeds ({', '.join(map(str, study.seeds))})"


def interval_note(study):
    return (f"95% interval of the seed-mean accuracy by bootstrap over test images ({BOOTSTRAP_RESAMPLES} resamples "
            f"of the {study.n_images:,} images, each image's correctness averaged over the seeds; percentile "
            f"method, numpy Generator seed {BOOTSTRAP_SEED}), and each seed model's 95% Wilson interval")


def table_1(study):
    seed = study.seed["table1"]

    def cell(name, key):
        return mean_sd(study.train[name][key], study.train[name][f"{key}_sd"])

    rows = [[n, cell(n, "train_accuracy"), cell(n, "train_accuracy_running"), cell(n, "val_accuracy"),
             number((seed.get(n) or {}).get("train_accuracy")), number((seed.get(n) or {}).get("val_accuracy"))]
            for n in study.study_variants]
    return (f"**Table 1. Training and validation accuracy** ({seeds_note(study)}). Train: measured after the last "
            "epoch in inference mode on the training split; running: Keras's mean over the last epoch's batches "
            "(dropout on, weights moving).\n\n"
            + table(["model", "train", "train (running)", "validation", "seed: train", "seed: validation"], rows))


def accuracy_row(study, name, published):
    """Model, test mean ± sd, bootstrap interval, per-seed Wilson intervals, the seed's number."""
    if name not in study.correct:
        return [name, "—", "—", "—", number(published)]
    low, high = study.interval(name)
    return [name, mean_sd(study.test_accuracy(name), study.test_sd(name)), f"[{low:.4f}, {high:.4f}]",
            study.wilson_text(name), number(published)]


ACCURACY_HEADER = ["model", "test", "95% CI (bootstrap)", "per seed [95% Wilson]", "seed: test"]


def table_2(study):
    selected = study.evaluate["selected"]
    seed = study.seed["table2"]
    rows = [accuracy_row(study, n, seed.get(n)) for n in dict.fromkeys([*selected, *seed])]
    text = (f"**Table 2. Test accuracy of the two best models by mean validation accuracy** (ours: "
            f"{' and '.join(selected)}; the seed's: {' and '.join(seed)}): {seeds_note(study)}; "
            f"{interval_note(study)}.\n\n" + table(ACCURACY_HEADER, rows))
    if len(selected) >= 2:
        comparison = study.compare(selected[0], selected[1])
        text += f"\n\n**{selected[0]} against {selected[1]}.** " + significance_sentence(comparison)
    return text


def table_3(study):
    selected = study.evaluate["selected"]
    rows = []
    for class_name in CLASS_NAMES:
        row = [class_name]
        for name in selected:
            ours = study.evaluate["models"][name]["per_class"][class_name]
            row.append(" / ".join(f"{ours[key]:.2f}" for key in PER_CLASS_KEYS))
            published = (study.seed["table3"].get(name) or {}).get(class_name)
            row.append(" / ".join(f"{v:.2f}" for v in published) if published else "—")
        rows.append(row)
    header = ["class"] + [c for n in selected for c in (n, f"seed: {n}")]
    over = "one seed" if len(study.seeds) == 1 else f"mean over the {len(study.seeds)} seeds"
    return (f"**Table 3. Per-class precision / recall (sensitivity) / F1 on the test set** (ours: {over}).\n\n"
            + table(header, rows))


def table_4(study):
    seed = study.seed["table4"]
    rows, sentences = [], []
    for name in ["baseline", *study.compared]:
        row = accuracy_row(study, name, seed.get(name))
        if name == "baseline":
            rows.append(row + ["", "", ""])
            continue
        comparison = study.compare(name, "baseline")
        rows.append(row + [difference_text(comparison), per_seed_p(comparison),
                           (f"{'yes' if comparison['significant'] else 'no'} "
                            f"({comparison['seeds_significant']} of {plural(comparison['n'], 'seed')})")])
        sentences.append(f"- {name} against baseline: {significance_sentence(comparison)}")
    return (f"**Table 4. Test accuracy of the baseline and the choice tasks** ({seeds_note(study)}; "
            f"{interval_note(study)}). Against the baseline: the mean difference with its 95% paired bootstrap "
            "interval over test images, McNemar's exact test seed by seed (seed s against the baseline's seed s) "
            "and whether the difference is significant at 0.05 (the interval excludes 0 and McNemar's test is "
            "significant, the same way, in most seeds).\n\n"
            + table([*ACCURACY_HEADER, "vs baseline [95% CI]", "McNemar", "significant at 0.05"], rows)
            + ("\n\n" + "\n".join(sentences) if sentences else ""))


def table_5(study):
    kfold = study.kfold
    rows = [[f"fold {f['fold']}", number(f["train_accuracy"]), number(f["val_accuracy"]), ""] for f in kfold["folds"]]
    rows.append(["mean ± sd", f"{kfold['train_accuracy_mean']:.4f} ± {kfold['train_accuracy_sd']:.4f}",
                 f"{kfold['val_accuracy_mean']:.4f} ± {kfold['val_accuracy_sd']:.4f}", ""])
    rows.append([f"best fold ({kfold['best_fold']})", number(kfold["best_fold_train_accuracy"]),
                 number(kfold["best_fold_val_accuracy"]), study.wilson_text("kfold_best", with_seed=False)])
    rows.append(["ensemble of the folds (mean softmax)", "", "", study.wilson_text("kfold_ensemble", with_seed=False)])
    baseline = study.train["baseline"]
    rows.append(["baseline (Table 1, 2)", mean_sd(baseline["train_accuracy"], baseline["train_accuracy_sd"]),
                 mean_sd(baseline["val_accuracy"], baseline["val_accuracy_sd"]), study.with_interval("baseline")])
    published = study.seed["table5"]
    for label, key in (("seed: baseline", "baseline"), ("seed: k-fold & LR", "kfold_lr")):
        rows.append([label, number(published[key]["train_accuracy"]), number(published[key]["val_accuracy"]),
                     number(published[key]["test_accuracy"])])
    return (f"**Table 5. {kfold['n_splits']}-fold cross-validation of {kfold['variant']}** (stratified over "
            "the 60,000 training images; mean ± sample sd over folds; the k-fold models' test accuracy with "
            f"95% Wilson intervals; the baseline's: {seeds_note(study)}, 95% bootstrap interval over test images).\n\n"
            + table(["", "train", "validation", "test [95% CI]"], rows))


def verdict(comparison):
    """Whether the claim `a beats b` holds: significant, in direction only, or not at all."""
    if comparison["difference"] <= 0:
        return "does not hold" + (" (the reverse is significant at 0.05)" if comparison["significant"] else "")
    return "holds" if comparison["significant"] else "holds in direction only"


def test_claim(study, key, claim, better, worse):
    """One of the seed's claims that model `better` beats `worse`, checked on the test set."""
    comparison = study.compare(better, worse)
    result = verdict(comparison)

    def accuracy(name):
        return mean_sd(study.test_accuracy(name), study.test_sd(name))

    return {
        "key": key, "claim": claim, "verdict": result, "comparison": comparison,
        "text": (f"{claim}: **{result}** here ({better} {accuracy(better)} vs {worse} {accuracy(worse)} on test; "
                 f"{better} − {worse} {difference_text(comparison)}, 95% paired bootstrap; McNemar {per_seed_p(comparison)}: "
                 f"significant at 0.05 in {comparison['seeds_significant']} of {plural(comparison['n'], 'seed')})."),
    }


def validation_claim(study, key, claim, better, worse, extra=""):
    """A claim on validation accuracy, where only the seeds' mean and sd exist: Welch's t-test over the seeds."""
    p_value = study.welch_validation(better, worse)
    (mean_b, sd_b), (mean_w, sd_w) = study.validation(better), study.validation(worse)
    if mean_b <= mean_w:
        result = "does not hold"
    else:
        result = "holds" if p_value is not None and p_value < SIGNIFICANCE else "holds in direction only"
    test = (f"Welch's t-test over the seeds {p_text(p_value)}" if p_value is not None
            else "no test of significance with one seed" if len(study.seeds) == 1 else "no spread to test")
    return {
        "key": key, "claim": claim, "verdict": result, "comparison": None,
        "text": (f"{claim}: **{result}** here ({better} {mean_sd(mean_b, sd_b)} vs {worse} {mean_sd(mean_w, sd_w)} "
                 f"in validation; {test}{extra})."),
    }


CLAIMS = (  # (key, the seed's claim, the model it says is better, the one it says is worse), checked on test
    ("kernel7_lowers_accuracy", "The 7x7 first convolution lowers accuracy (seed, section 2)", "baseline", "kernel7"),
    ("adam_beats_sgd", "Adam beats SGD with momentum (seed, section 2)", "baseline", "sgd"),
    ("sigmoid_worse_than_relu", "Sigmoid activations are worse than ReLU (seed, section 2)", "baseline", "sigmoid"),
    ("baseline_beats_batchnorm", "The baseline beats batch norm on the test set (seed, Table 2)", "baseline", "batchnorm"),
    ("lr_decay_improves_baseline", "The LR step decay improves the baseline (seed, Table 4)", "baseline_lr", "baseline"),
    ("augmentation_lowers_accuracy", "Augmentation lowers accuracy (seed, Table 4)", "baseline", "baseline_aug"),
    ("hflip_augmentation_does_better", "Without the vertical flip, augmentation does better (the seed's guess)",
     "baseline_aug_hflip", "baseline_aug"),
    ("kfold_beats_baseline", "k-fold with the LR decay beats the baseline on test (seed, Table 5)", "kfold_best", "baseline"),
)


def findings(study):
    """The computed findings: the best model, and each conclusion of the seed checked."""
    candidates = study.study_variants
    lines = []
    by_validation = sorted(candidates, key=lambda n: -study.train[n]["val_accuracy"])
    best_val = by_validation[0]
    line = f"- Best of the {len(candidates)} by mean validation accuracy: **{best_val}**, {mean_sd(*study.validation(best_val))}"
    if len(by_validation) > 1:
        runner = by_validation[1]
        p_value = study.welch_validation(best_val, runner)
        line += (f", {study.validation(best_val)[0] - study.validation(runner)[0]:+.4f} over the next, {runner} "
                 + (f"(Welch's t-test over the seeds {p_text(p_value)}: "
                    f"{'significant' if p_value < SIGNIFICANCE else 'not significant'} at 0.05)" if p_value is not None
                    else "(no test of significance with one seed)"))
    lines.append(line + ".")
    by_test = sorted(candidates, key=lambda n: -study.test_accuracy(n))
    best = by_test[0]
    line = f"- Best of the {len(candidates)} on the test set: **{best}**, {study.with_interval(best)}"
    if len(by_test) > 1:
        runner_up = by_test[1]
        best_comparison = study.compare(best, runner_up)
        line += (f", {best_comparison['difference']:+.4f} over the next, {runner_up}. "
                 + significance_sentence(best_comparison))
    lines.append(line if line.endswith(".") else line + ".")

    claims = []
    seed_pair = list(study.seed["table2"])
    selected = study.evaluate["selected"]
    same_pair = set(selected[:2]) == set(seed_pair)
    claims.append({
        "key": "two_best_by_validation", "claim": f"The two best by validation are {' and '.join(seed_pair)} (seed, Table 2)",
        "verdict": "holds" if same_pair else "does not hold", "comparison": None,
        "text": (f"The two best by validation are {' and '.join(seed_pair)} (seed, Table 2): "
                 f"**{'holds' if same_pair else 'does not hold'}** here (ours: {' and '.join(selected[:2])})."),
    })
    present = set(study.correct)
    for key, claim, better, worse in CLAIMS:
        if {better, worse} <= present:
            claims.append(test_claim(study, key, claim, better, worse))
    if "sigmoid" in candidates and len(candidates) > 1:
        worst, next_worst = sorted(candidates, key=lambda n: study.train[n]["val_accuracy"])[:2]
        claim = "Sigmoid is the worst of the five in validation (seed, Table 1)"
        if worst == "sigmoid":
            claims.append(validation_claim(study, "sigmoid_worst_in_validation", claim, next_worst, "sigmoid",
                                           f", against the next worst, {next_worst}"))
        else:
            claims.append({"key": "sigmoid_worst_in_validation", "claim": claim, "verdict": "does not hold",
                           "comparison": None,
                           "text": (f"{claim}: **does not hold** here (worst: {worst}, "
                                    f"{mean_sd(*study.validation(worst))}; sigmoid {mean_sd(*study.validation('sigmoid'))}).")})
    if {"batchnorm", "baseline"} <= set(study.names):
        claims.append(validation_claim(study, "batchnorm_beats_baseline_in_validation",
                                       "Batch norm beats the baseline in validation (seed, Table 1)", "batchnorm", "baseline",
                                       "; one validation split"))
    kfold = study.kfold
    kfold_val, kfold_train = kfold["val_accuracy_mean"], kfold["train_accuracy_mean"]
    holds = kfold_val > kfold_train
    claims.append({
        "key": "kfold_validation_above_training",
        "claim": "k-fold validation accuracy exceeds training accuracy (seed: 0.9708 vs 0.9548)",
        "verdict": "holds" if holds else "does not hold", "comparison": None,
        "text": (f"The seed's k-fold validation accuracy (0.9708) above its training accuracy (0.9548) and its test "
                 f"accuracy (0.9259): **does not hold** here: validation is {kfold_val:.4f} ± {kfold['val_accuracy_sd']:.4f} "
                 f"against training {kfold_train:.4f}. Validation images the model had trained on (one model carried "
                 "across folds) would explain the seed's figure; each fold here trains a fresh model."
                 if not holds else
                 f"k-fold validation accuracy exceeds training accuracy (seed: 0.9708 vs 0.9548): **holds** here "
                 f"({kfold_val:.4f} against {kfold_train:.4f})."),
    })
    lines += [f"- {c['text']}" for c in claims]
    return lines, claims, best


def comparison_metrics(comparison):
    return {
        "difference": comparison["difference"],
        "difference_ci_low": comparison["low"],
        "difference_ci_high": comparison["high"],
        "mcnemar_p": {test["seed"]: test["p_value"] for test in comparison["tests"]},
        "seeds_significant": comparison["seeds_significant"],
        "significant": comparison["significant"],
    }


def headline(study, best, claims):
    """metrics/study.json: numbers under stable keys, so `dvc metrics diff` compares experiments."""
    low, high = study.interval(best)
    comparisons = {}

    def add(name_a, name_b):
        if f"{name_b}_vs_{name_a}" not in comparisons:
            comparisons[f"{name_a}_vs_{name_b}"] = comparison_metrics(study.compare(name_a, name_b))

    selected = study.evaluate["selected"]
    if len(selected) >= 2:
        add(selected[0], selected[1])
    for name in study.compared:
        add(name, "baseline")
    for claim in claims:
        if claim["comparison"] is not None:
            add(claim["comparison"]["a"], claim["comparison"]["b"])
    return {
        "n_seeds": len(study.seeds),
        "best_model": best,
        "best_test_accuracy": study.test_accuracy(best),
        "best_test_accuracy_sd": study.test_sd(best),
        "best_test_accuracy_ci_low": low,
        "best_test_accuracy_ci_high": high,
        "table2_comparison": f"{selected[0]}_vs_{selected[1]}" if len(selected) >= 2 else None,
        "comparisons": comparisons,
        "claims": {claim["key"]: claim["verdict"] for claim in claims},
    }


def main():
    try:
        study = Study(params.load())
    except (params.ParamsError, DataError) as error:
        params.fail(error)
    finding_lines, claims, best = findings(study)
    augmented = study.params.get("augmented_variants") or {}
    figures = [
        ("Figure 1. Training and validation loss per epoch (mean over the seeds)",
         "../plots/figures/evaluate/loss_curves.png"),
        *[(f"Confusion matrix of {n} on the test set" + (", all seeds summed" if len(study.seeds) > 1 else ""),
           f"../plots/figures/evaluate/confusion_{n}.png") for n in study.evaluate["selected"]],
        *[(f"Figure 2. Augmentation of {v} ({(spec or {}).get('augmentation')})", f"../plots/figures/augmentation_{v}.png")
          for v, spec in augmented.items()],
        ("Figure 3. Confusion matrix of the best k-fold model", "../plots/figures/kfold_confusion_best.png"),
        ("Confusion matrix of the k-fold ensemble", "../plots/figures/kfold_confusion_ensemble.png"),
    ]
    report = "\n\n".join([
        "# Fashion-MNIST CNN study: results",
        ("Written by `python -m stages.report` (`dvc repro report`) from the metrics and plot files of the "
         "pipeline; the seed's published numbers come from `reports/seed_numbers.yaml`. Every variant is trained "
         f"once per seed ({', '.join(map(str, study.seeds))}); the tables give the {seeds_note(study)}. "
         f"Test accuracies carry a {interval_note(study)}. The bootstrap interval covers the sampling of test "
         "images for these trained models, not the spread between training seeds, which the sd shows. Two models "
         "are compared seed by seed (seed s against seed s) with McNemar's exact (binomial) test on the images "
         "where exactly one of them is right, and by a 95% paired bootstrap interval over test images of the mean "
         "difference in accuracy. A difference is called significant at 0.05 when that interval excludes 0 and "
         "McNemar's test is significant, the same way, in most seeds. A claim of the seed **holds** when our "
         "difference points its way and is significant, **holds in direction only** when it points its way "
         "without being significant, and **does not hold** otherwise."),
        "## Findings", "\n".join(finding_lines),
        "## Tables", table_1(study), table_2(study), table_3(study), table_4(study), table_5(study),
        "## Figures", "\n\n".join(f"**{title}**\n\n![{title}]({path})" for title, path in figures),
    ]) + "\n"
    metrics = headline(study, best, claims)
    files.write_text(REPORT, report)
    files.write_json(STUDY_METRICS, metrics)
    low, high = study.interval(best)
    print(f"report: {REPORT}; best model {best}, test {mean_sd(study.test_accuracy(best), study.test_sd(best))} "
          f"[{low:.4f}, {high:.4f}] over {plural(len(study.seeds), 'seed')}")


if __name__ == "__main__":
    main()
