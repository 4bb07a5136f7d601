"""Fashion-MNIST for the study: its facts, where it comes from, the IDX format, the splits, and
augmentation, both made once (augmentation.py) and drawn afresh each epoch (on_the_fly.py)."""
