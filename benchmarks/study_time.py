"""The `--study` section of the benchmark: the recorded pipeline stages against the study's arithmetic bound.

The bound is the sum over the study's trainings of trained images times FLOPs per
image, over the fp32 GEMM rate: the floor below which no training path on this
machine could go, and so the yardstick of the whole study's time.
"""

import glob
import json
import os

from benchmarks.machine import cpu_model
from study import config
from study.analysis.cost import study_trainings, training_flops

RESOURCES = os.path.join("logs", "resources")


def stage_resources():
    """The records that the pipeline's stages leave in logs/resources/ (wall time, peak memory)."""
    records = []
    for path in sorted(glob.glob(os.path.join(RESOURCES, "*.json"))):
        with open(path) as stream:
            records.append(json.load(stream))
    return records


def section(gemm, wall_s=None):
    """The study's trainings against their arithmetic at the fp32 GEMM rate: bound_s, and the recorded stages.

    `wall_s`: the whole study's measured wall time, when it ran in one go.
    """
    records = {record["stage"]: record for record in stage_resources()}
    trainings = study_trainings(config.load())
    bound_s = sum(count * training_flops(spec) for count, spec in trainings.values()) / (gemm * 1e9)
    return {
        "cpu": cpu_model(),
        "gemm_fp32_gflops": gemm,
        "wall_s": wall_s,
        "bound_s": bound_s,
        "stages_wall_s": sum(r["wall_s"] for r in records.values()),
        "training_stages_wall_s": sum(records[s]["wall_s"] for s in trainings if s in records),
        "images_per_training": {stage: count for stage, (count, _) in trainings.items()},
        "peak_rss_mib": {stage: r["peak_rss_mib"] for stage, r in records.items()},
        "largest_peak_rss_mib": max((r["peak_rss_mib"] for r in records.values()), default=None),
        "missing_records": sorted(s for s in trainings if s not in records),
        "models": model_ratios(records, trainings, gemm),
    }


def model_ratios(records, trainings, gemm):
    """{model: {trainings, wall_s, bound_s, ratio}}: each model's recorded trainings against their bound
    on one core, half the machine's GEMM rate, as each trained beside another (kfold and kfold_carried
    are the k-fold's models)."""
    models = {}
    for stage, (images, spec) in trainings.items():
        if stage not in records:
            continue
        words = stage.split()
        model = models.setdefault(
            words[1] if words[0] == "train" else words[0], {"trainings": 0, "wall_s": 0.0, "bound_s": 0.0}
        )
        model["trainings"] += 1
        model["wall_s"] += records[stage]["wall_s"]
        model["bound_s"] += images * training_flops(spec) / (gemm * 1e9 / 2)
    for model in models.values():
        model["ratio"] = model["wall_s"] / model["bound_s"]
    return models


def print_section(study):
    """The `--study` section as lines of text."""
    print(f"CPU: {study['cpu']}; fp32 GEMM {study['gemm_fp32_gflops']:.0f} GFLOP/s")
    # A fresh clone has no logs/resources/ records: then there is no peak to print.
    peak = study["largest_peak_rss_mib"]
    print(
        f"study: arithmetic bound {study['bound_s'] / 60:.1f} min; "
        f"stages recorded {study['stages_wall_s'] / 60:.1f} min "
        f"({study['training_stages_wall_s'] / 60:.1f} in trainings, run two at a time); largest peak "
        + ("none recorded" if peak is None else f"{peak:.0f} MiB")
        + (
            f"; wall {study['wall_s'] / 60:.1f} min, {study['wall_s'] / study['bound_s']:.2f}x the bound"
            if study["wall_s"]
            else ""
        )
    )
    for model, figures in sorted(study["models"].items(), key=lambda item: -item[1]["ratio"]):
        print(
            f"  {model}: {figures['trainings']} training(s), {figures['wall_s'] / 60:.1f} min, "
            f"{figures['ratio']:.2f}x their bound on one core"
        )
    if study["missing_records"]:
        print(f"no record for: {', '.join(study['missing_records'])}")
