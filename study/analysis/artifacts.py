"""The files the summaries, the evaluation and the report write: their paths, built here and nowhere else.

    metrics/details/train/<variant>.json, plots/history/<variant>.csv, plots/curves.csv
                                                  seed_summary: means and sds over seeds
    metrics/details/kfold.json, plots/kfold_confusion/, plots/figures/kfold_confusion_*.png
                                                  kfold_summary
    metrics/details/evaluate.json, plots/confusion/, plots/figures/evaluate/
                                                  evaluate
    metrics/headline.json, metrics/details/study.json, reports/study.md
                                                  report

The data's and the trainings' files are in study/data/paths.py and study/training/runs.py,
so an edit here reruns no training.
"""

import os

from study.data.paths import FIGURES_DIR

DETAILS_DIR = os.path.join("metrics", "details")
HISTORY_DIR = os.path.join("plots", "history")
# Every variant's mean curves in one long table (epoch, variant, ...): one chart draws them all.
CURVES = os.path.join("plots", "curves.csv")
CONFUSION_DIR = os.path.join("plots", "confusion")
KFOLD_CONFUSION_DIR = os.path.join("plots", "kfold_confusion")
EVALUATE_FIGURES_DIR = os.path.join(FIGURES_DIR, "evaluate")
PUBLISHED = os.path.join("reports", "published.yaml")
PROTOCOL_SCREEN = os.path.join("reports", "protocol_screen.json")  # scripts/protocol_screen.py
# The recipe search's trainings, recorded with the commit that ran them (not a stage's output).
SEARCH = os.path.join("reports", "search.json")
REPORT = os.path.join("reports", "study.md")
HEADLINE = os.path.join("metrics", "headline.json")
TRAIN_SUMMARY_DIR = os.path.join(DETAILS_DIR, "train")


def kfold_confusion_figure(kind):
    """Figure 3: the confusion matrix of the best fold's model or of the ensemble (`kind`: best, ensemble)."""
    return os.path.join(FIGURES_DIR, f"kfold_confusion_{kind}.png")


def variant_summary(variant, directory=TRAIN_SUMMARY_DIR):
    return os.path.join(directory, f"{variant}.json")


def variant_history(variant, directory=HISTORY_DIR):
    return os.path.join(directory, f"{variant}.csv")


def evaluate_details():
    return os.path.join(DETAILS_DIR, "evaluate.json")


def kfold_details():
    return os.path.join(DETAILS_DIR, "kfold.json")


def study_details():
    return os.path.join(DETAILS_DIR, "study.json")
