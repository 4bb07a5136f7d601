"""Training one model: built from its spec (models.py), fed seeded batches (batches.py), saved after
every epoch (checkpoints.py), fitted and measured (fitting.py), its files named by runs.py."""
