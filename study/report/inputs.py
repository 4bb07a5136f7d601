"""Everything the report is made from, read once through study.artifacts.

The writers (the training, summary and evaluation stages) guarantee their files'
shape; here a file that is missing or unreadable is a DataError naming it, and
nothing is checked twice.
"""

import functools
import os

import numpy as np
import yaml

from study import artifacts, evaluation, files, params
from study.files import DataError


def read_published():
    if not os.path.isfile(artifacts.PUBLISHED):
        raise DataError(f"{artifacts.PUBLISHED}: missing (the published study's numbers and claims)")
    try:
        with open(artifacts.PUBLISHED) as stream:
            return yaml.safe_load(stream)
    except yaml.YAMLError as error:
        raise DataError(f"{artifacts.PUBLISHED}: not valid YAML: {' '.join(str(error).split())}") from None


def mirrored(name):
    """The name the report gives variant `name`'s answers with the test-time mirror (stage mirror)."""
    return f"{name}+mirror"


class Inputs:
    """The study's figures: per seed, per variant, per fold, and each model's answers on the test set."""

    def __init__(self, all_params):
        self.params = all_params
        self.names = params.variant_names(all_params)
        self.settings = params.evaluate_params(all_params)
        self.kfold_settings = params.kfold_params(all_params)
        self.seeds = params.seeds(all_params)
        self.published = read_published()
        _, self.labels = files.load_split(artifacts.prepared("test"))
        self.per_seed = {n: [artifacts.read_json(artifacts.seed_run(n, s)["metrics"]) for s in self.seeds]
                         for n in self.names}
        self.histories = {n: artifacts.read_history(artifacts.variant_history(n)) for n in self.names}
        self.evaluate = artifacts.read_json(artifacts.evaluate_details())
        self.kfold = artifacts.read_json(artifacts.kfold_details())
        self.carried = artifacts.read_json(artifacts.carried_run()["metrics"])
        self.answers = {n: np.stack([artifacts.read_predictions(artifacts.seed_run(n, s)["predictions"],
                                                                len(self.labels))[0] for s in self.seeds])
                        for n in self.names}
        folds = sorted(self.kfold_settings["folds"])
        fold_answers = [artifacts.read_predictions(artifacts.fold_run(f)["predictions"], len(self.labels))
                        for f in folds]
        best = folds.index(self.kfold["best_fold"])
        ensemble = np.mean([probabilities for _, probabilities in fold_answers], axis=0).argmax(axis=1)
        self.answers["kfold_best"] = fold_answers[best][0][None]
        self.answers["kfold_ensemble"] = ensemble[None]
        carried, _ = artifacts.read_predictions(artifacts.carried_run()["predictions"], len(self.labels))
        self.answers[artifacts.KFOLD_CARRIED] = carried[None]
        # The test-time mirror's answers, of the variants params.yaml `mirror` lists.
        self.mirrored = params.mirror_params(all_params)["variants"]
        self.mirror_ensemble = {}
        for name in self.mirrored:
            answers = [artifacts.read_predictions(artifacts.mirror_predictions(name, s), len(self.labels))
                       for s in self.seeds]
            self.answers[mirrored(name)] = np.stack([predicted for predicted, _ in answers])
            ensemble = evaluation.average_probabilities([probabilities for _, probabilities in answers]).argmax(axis=1)
            self.mirror_ensemble[name] = float(np.mean(ensemble == self.labels))
        self.correct = {name: answers == self.labels[None] for name, answers in self.answers.items()}
        self._train_size = None
        self.screen = artifacts.read_json(artifacts.PROTOCOL_SCREEN) if os.path.isfile(artifacts.PROTOCOL_SCREEN) else None

    # Figures over seeds.
    def seed_values(self, name, key):
        """One figure of a variant, seed by seed (Table 1's figures from the training's metrics)."""
        return np.array([metrics[key] for metrics in self.per_seed[name]], dtype=float)

    def test_values(self, name):
        """Test accuracy of each seed's model (one value for a single model)."""
        return self.correct[name].mean(axis=1)

    @functools.cached_property
    def specs(self):
        """Each variant's full model spec (params.model_spec), computed once."""
        return {name: params.model_spec(self.params, name) for name in self.names}

    def training_set_size(self, name):
        """Images in the training set variant `name` reads: the train split, times 1 + copies for an augmented set."""
        if self._train_size is None:
            with np.load(artifacts.prepared("train")) as arrays:
                self._train_size = len(arrays["y"])  # the labels alone: the images stay on disk
        augmentation = self.specs[name]["augmentation"]
        copies = 0 if augmentation is None else params.augmentation_params(self.params, augmentation)["copies"]
        return self._train_size * (1 + copies)

    @property
    def study_variants(self):
        return self.settings["select_from"]

    @property
    def compared(self):
        return self.settings["compare_with_baseline"]

    @property
    def selected(self):
        return self.evaluate["selected"]
