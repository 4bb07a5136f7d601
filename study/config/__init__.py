"""params.yaml, read and checked once into frozen dataclasses (study/config/study.py).

from study import config
study = config.load()               # a ParamsError of one line if anything is wrong
spec = study.spec("baseline", 42)   # a ModelSpec: spec.epochs, spec.filters, ...

python -m study.config              # checks the whole params.yaml
"""

from study.config.checks import PARAMS_FILE
from study.config.schema import AugmentationPreset, ModelSpec, OnTheFly, StepDecay, WarmupCosine
from study.config.study import Study, load, read

__all__ = [
    "PARAMS_FILE",
    "AugmentationPreset",
    "ModelSpec",
    "OnTheFly",
    "StepDecay",
    "Study",
    "WarmupCosine",
    "load",
    "read",
]
