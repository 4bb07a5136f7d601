"""Everything the study's analysis is made from, read once: StudyResults.

The writers (the training, summary and evaluation stages) guarantee their files'
shape; here a file that is missing or unreadable is a DataError naming it, and
nothing is checked twice. What the published study names (reports/published.yaml)
is checked against params.yaml's variants before anything is computed.
"""

import os

import numpy as np
import yaml

from study import files
from study.analysis import artifacts, claims, evaluation, kfold
from study.analysis.kfold import KFOLD_BEST, KFOLD_ENSEMBLE, KFOLD_FOLDS
from study.data import paths as data_paths
from study.errors import DataError, ParamsError
from study.training import runs

# The variant every comparison of the report is made against.
BASELINE = "baseline"


def read_published():
    if not os.path.isfile(artifacts.PUBLISHED):
        raise DataError(f"{artifacts.PUBLISHED}: missing (the published study's numbers and claims)")
    try:
        with open(artifacts.PUBLISHED) as stream:
            return yaml.safe_load(stream)
    except yaml.YAMLError as error:
        raise DataError(f"{artifacts.PUBLISHED}: not valid YAML: {' '.join(str(error).split())}") from None


def mirrored(name):
    """The name the analysis gives variant `name`'s answers with the test-time mirror (stage mirror)."""
    return f"{name}+mirror"


def read_train_size():
    """Images in the train split: its labels alone are read, the images stay on disk."""
    path = data_paths.prepared("train")
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to make it)")
    with np.load(path) as arrays:
        return len(arrays["y"])


def check_named_models(study, published, searched=()):
    """A ParamsError where params.yaml lacks a model that the published study's tables or claims name.
    A claim may name a variant of the recorded search (`searched`), which the pipeline does not train:
    the claim is then reported as not checked, with the record's figures."""
    known = {*study.variant_names, KFOLD_BEST, KFOLD_ENSEMBLE, runs.KFOLD_CARRIED}
    needed = [(BASELINE, "the report's comparisons")]
    needed += [
        (name, f"{artifacts.PUBLISHED} {table}")
        for table in ("table1", "table2", "table4")
        for name in published[table]
    ]
    needed += [
        (name, f"{artifacts.PUBLISHED} claim {claim['key']}")
        for claim in published["claims"]
        for name in claims.models_named(claim)
        if name not in searched
    ]
    for name, where in needed:
        if name not in known:
            raise ParamsError(
                f"{study.path}: variants: no variant named {name!r}, which {where} needs "
                f"(known: {', '.join(study.variant_names)})"
            )


class StudyResults:
    """The study's results: per seed, per variant, per fold, and each model's answers on the test set.

    `correct[name]` is a boolean array (one row per seed, or one row for a single model)
    of which test images the model got right; every test-set figure derives from it.
    """

    def __init__(self, study):
        self.study = study
        self.names = study.variant_names
        self.seeds = study.seeds
        self.published = read_published()
        self.search = files.read_json(artifacts.SEARCH) if os.path.isfile(artifacts.SEARCH) else None
        check_named_models(study, self.published, (self.search or {}).get("variants", {}))
        _, self.labels = files.load_split(data_paths.prepared("test"))
        self.per_seed = {
            n: [files.read_json(runs.seed_run(n, s)["metrics"]) for s in study.seeds_of(n)]
            for n in self.names
        }
        self.histories = {n: files.read_history(artifacts.variant_history(n)) for n in self.names}
        self.evaluate = files.read_json(artifacts.evaluate_details())
        self.kfold = files.read_json(artifacts.kfold_details())
        self.carried = files.read_json(runs.carried_run()["metrics"])
        self.answers = {
            n: np.stack([self._predictions(runs.seed_run(n, s)["predictions"])[0] for s in study.seeds_of(n)])
            for n in self.names
        }
        self._read_kfold_answers()
        carried, _ = self._predictions(runs.carried_run()["predictions"])
        self.answers[runs.KFOLD_CARRIED] = carried[None]
        # The test-time mirror's answers, of the variants params.yaml `mirror` lists.
        self.mirrored = study.mirror.variants
        self.mirror_ensemble = {}
        for name in self.mirrored:
            answers = [self._predictions(runs.mirror_predictions(name, s)) for s in study.seeds_of(name)]
            self.answers[mirrored(name)] = np.stack([predicted for predicted, _ in answers])
            ensemble = evaluation.average_probabilities([probabilities for _, probabilities in answers])
            ensemble = ensemble.argmax(axis=1)
            self.mirror_ensemble[name] = float(np.mean(ensemble == self.labels))
        self.correct = {name: answers == self.labels[None] for name, answers in self.answers.items()}
        screened = os.path.isfile(artifacts.PROTOCOL_SCREEN)
        self.screen = files.read_json(artifacts.PROTOCOL_SCREEN) if screened else None
        self.train_size = read_train_size()

    def _predictions(self, path):
        return files.read_predictions(path, len(self.labels))

    def _read_kfold_answers(self):
        """The best fold's and the ensemble's answers, chosen as stage kfold_summary chose them."""
        folds = sorted(self.study.kfold.folds)
        summarised = [fold["fold"] for fold in self.kfold["folds"]]
        if summarised != folds:
            raise DataError(
                f"{artifacts.kfold_details()}: folds {summarised}, params.yaml kfold.folds "
                f"{folds} (run `dvc repro kfold_summary`)"
            )
        fold_answers = [self._predictions(runs.fold_run(fold)["predictions"]) for fold in folds]
        _, best, ensemble = kfold.best_and_ensemble(
            [fold[runs.VAL_ACCURACY] for fold in self.kfold["folds"]], fold_answers
        )
        self.answers[KFOLD_BEST] = best[None]
        self.answers[KFOLD_ENSEMBLE] = ensemble[None]
        self.answers[KFOLD_FOLDS] = np.stack([predicted for predicted, _ in fold_answers])

    # Figures over seeds.
    def seed_values(self, name, key):
        """One figure of a variant, seed by seed (Table 1's figures from the training's metrics)."""
        return np.array([metrics[key] for metrics in self.per_seed[name]], dtype=float)

    def seeds_of(self, name):
        """The seeds of model `name`'s rows: a variant's (or its mirrored answers'), None for the k-fold's."""
        variant = name.removesuffix(mirrored(""))
        return self.study.seeds_of(variant) if variant in self.study.specs else None

    def test_values(self, name):
        """Test accuracy of each seed's model (one value for a single model)."""
        return self.correct[name].mean(axis=1)

    @property
    def specs(self):
        return self.study.specs

    @property
    def study_variants(self):
        return self.study.evaluate.select_from

    @property
    def compared(self):
        return self.study.evaluate.compare_with_baseline

    @property
    def selected(self):
        return self.evaluate["selected"]
