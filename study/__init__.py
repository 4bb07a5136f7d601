"""The study's shared code, in layers; the pipeline's stages (`stages/`) are thin entry points over it.

    errors.py    the user errors and the one-line refusal every stage makes
    config/      params.yaml, read and checked once into frozen dataclasses
    geometry.py  the size of each conv layer's output
    files.py     the file formats the stages exchange, written atomically
    data/        Fashion-MNIST: facts, sources, IDX, splits, augmentation
    training/    models, batches, checkpoints, fitting, the trainings' files
    analysis/    everything computed from the trainings' files: statistics, comparisons, claims, cost
    report/      the formatting of reports/study.md, and nothing else
    predict.py   classify your own images (python -m study.predict)

A layer imports only the layers above it in this list, and the dependency-free facts
(data/facts.py, geometry.py) and errors anywhere (tests/test_layout.py), so an edit to
analysis/ or report/ reruns no training.
"""
