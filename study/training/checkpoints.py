"""The state of an unfinished training, saved after every epoch so that a killed run resumes exactly.

After each epoch the model, its optimizer, its dropout RNG state and the history so
far are saved under checkpoints/<name>/ (outside DVC's outputs, which DVC deletes
before a stage runs). A resumed run ends with the same weights as one never interrupted.
"""

import dataclasses
import hashlib
import json
import os
import shutil

import numpy as np

from study import files
from study.training.models import load_keras_model

CHECKPOINT_ROOT = "checkpoints"


def fingerprint(spec, *arrays):
    """A hash of everything training depends on, so a stale checkpoint is never resumed."""
    digest = hashlib.sha256(json.dumps(dataclasses.asdict(spec), sort_keys=True).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _seed_states(model):
    # Keras does not save its SeedGenerator states (the dropout masks' RNG) with
    # the model, so they are saved beside it to make a resumed run identical.
    return [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]


class Checkpoint:
    """The state of an unfinished training run: checkpoints/<name>/{model.keras,state.json}."""

    def __init__(self, name, run_fingerprint, root=CHECKPOINT_ROOT):
        self.directory = os.path.join(root, name)
        self.model_path = os.path.join(self.directory, "model.keras")
        self.state_path = os.path.join(self.directory, "state.json")
        self.fingerprint = run_fingerprint

    def load(self):
        """(model, history rows) of the last finished epoch, or None to start afresh."""
        try:
            with open(self.state_path) as stream:
                state = json.load(stream)
            if state["fingerprint"] != self.fingerprint:
                print(f"{self.directory}: checkpoint of other params or data, starting afresh")
                return None
            model = load_keras_model(self.model_path)
        except FileNotFoundError:
            return None
        except Exception as error:  # A checkpoint cut short by a crash: start afresh.
            print(f"{self.directory}: unreadable checkpoint ({type(error).__name__}), starting afresh")
            return None
        for variable, value in zip(_seed_states(model), state["seed_states"]):
            variable.assign(np.array(value, dtype=variable.dtype))
        return model, state["history"]

    def save(self, model, history):
        os.makedirs(self.directory, exist_ok=True)
        with files.atomic_path(self.model_path, suffix=".keras") as temporary:
            model.save(temporary)
        state = {
            "fingerprint": self.fingerprint,
            "history": history,
            "seed_states": [np.asarray(v.numpy()).tolist() for v in _seed_states(model)],
        }
        # The state is renamed into place last: it is what says the epoch finished.
        files.write_json(self.state_path, state)

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)
