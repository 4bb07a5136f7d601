"""Training speed on this machine: the plain Keras script, our training path, and the `fast` protocol.

    python -m benchmarks.benchmark            # the real data, about 12 minutes; writes metrics/benchmark.json
    python -m benchmarks.benchmark --tiny     # tiny random data, seconds: proves it runs (the test suite's)
    python -m benchmarks.benchmark --study    # the last whole study from logs/resources/ against its arithmetic bound

Side by side, each in its own process: (a) the plain script (benchmarks/plain_keras.py,
Keras's defaults, batch 32), the plain script at the published protocol's batch size
and precision (`plain_same_batch`), (b) study/fitting.py at the published protocol,
(c) the same at `protocols.fast`. The CPU model is printed and recorded beside the figures.
For each: median step time, images/s, achieved GFLOP/s (FLOPs of the fp32 model,
stages/flops.py, whatever precision runs) against the fp32 GEMM rate measured in
this run, seconds and epochs until validation accuracy first reaches the target,
final validation accuracy and peak memory. Then each speed lever alone (median
step), and the peak memory of every pipeline stage as logs/resources/ last
recorded it. Run it on a quiet machine: single steps stall now and then, so
step times are medians.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from study import files, params
from study.flops import training_flops

TARGET_ACCURACY = 0.915
GEMM_SIZE = 2048
OUTPUT = os.path.join("metrics", "benchmark.json")


def cpu_model():
    """The processor's model name, as /proc/cpuinfo gives it (figures differ between CPU families)."""
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def gemm_gflops(size=GEMM_SIZE, repeats=15, dtype="float32"):
    """The median rate of an n x n matrix product (2 n^3 FLOPs) with TensorFlow on this machine."""
    import tensorflow as tf

    a = tf.random.uniform((size, size), dtype=dtype)
    b = tf.random.uniform((size, size), dtype=dtype)
    tf.linalg.matmul(a, b).numpy()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        times.append(time.perf_counter() - started)
    return 2 * size**3 / float(np.median(times)) / 1e9


def run_contender(arguments, scratch):
    handle, out = tempfile.mkstemp(dir=scratch, suffix=".json")
    os.close(handle)
    command = [sys.executable, "-m", "benchmarks.contender", *arguments, "--out", out]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    with open(out) as stream:
        return json.load(stream)


def tiny_data(directory, count=256):
    """Random images of the right shape: the benchmark's plumbing, not its figures."""
    rng = np.random.default_rng(0)
    for split, size in (("train", count), ("val", count // 4)):
        files.save_split(os.path.join(directory, f"{split}.npz"),
                         rng.random((size, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, size).astype(np.uint8))


def trained_images(all_params):
    """{training stage: images it trains on}: epochs times its training set (a k-fold's folds, an augmented set's copies)."""
    from study import artifacts

    seeds = params.seeds(all_params)
    kfold = params.kfold_params(all_params)
    sizes = {split: len(files.load_split(artifacts.prepared(split))[1]) for split in ("train", "val")}
    fold_train = (sizes["train"] + sizes["val"]) * (kfold["n_splits"] - 1) // kfold["n_splits"]
    images = {}
    for name in params.variant_names(all_params):
        spec = params.model_spec(all_params, name)
        copies = 1 if spec["augmentation"] is None else 1 + params.augmentation_params(
            all_params, spec["augmentation"])["copies"]
        for seed in seeds:
            images[f"train {name} --seed {seed}"] = (spec["epochs"] * sizes["train"] * copies, spec)
    spec = params.model_spec(all_params, kfold["variant"])
    for fold in kfold["folds"]:
        images[f"kfold {fold}"] = (spec["epochs"] * fold_train, spec)
    images["kfold_carried"] = (spec["epochs"] * fold_train * kfold["n_splits"], spec)
    return images


def study_section(gemm, wall_s=None):
    """The study's trainings against their arithmetic at the fp32 GEMM rate: bound_s, and the recorded stages."""
    records = {record["stage"]: record for record in stage_resources()}
    trainings = trained_images(params.load())
    bound_s = sum(count * training_flops(spec) for count, spec in trainings.values()) / (gemm * 1e9)
    return {
        "wall_s": wall_s,
        "bound_s": bound_s,
        "stages_wall_s": sum(r["wall_s"] for r in records.values()),
        "training_stages_wall_s": sum(records[s]["wall_s"] for s in trainings if s in records),
        "images_per_training": {stage: count for stage, (count, _) in trainings.items()},
        "peak_rss_mib": {stage: r["peak_rss_mib"] for stage, r in records.items()},
        "largest_peak_rss_mib": max((r["peak_rss_mib"] for r in records.values()), default=None),
        "missing_records": sorted(s for s in trainings if s not in records),
    }


def stage_resources():
    records = []
    for path in sorted(glob.glob(os.path.join("logs", "resources", "*.json"))):
        with open(path) as stream:
            records.append(json.load(stream))
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random data and one epoch each; writes nothing")
    parser.add_argument("--no-levers", action="store_true", help="skip the per-lever step times")
    parser.add_argument("--study", action="store_true", help="only the study section: the GEMM rate, the stages' "
                        "records in logs/resources/ and the arithmetic bound; writes metrics/benchmark_study.json")
    parser.add_argument("--study-wall-s", type=float, help="the whole study's measured wall time, to record beside the bound")
    arguments = parser.parse_args()
    if arguments.study:
        gemm = gemm_gflops()
        study = {"cpu": cpu_model(), "gemm_fp32_gflops": gemm, **study_section(gemm, arguments.study_wall_s)}
        print(f"CPU: {study['cpu']}; fp32 GEMM {gemm:.0f} GFLOP/s")
        print(f"study: arithmetic bound {study['bound_s'] / 60:.1f} min; stages recorded {study['stages_wall_s'] / 60:.1f} "
              f"min ({study['training_stages_wall_s'] / 60:.1f} in trainings, run two at a time); largest peak "
              f"{study['largest_peak_rss_mib']:.0f} MiB" + (f"; wall {study['wall_s'] / 60:.1f} min, "
              f"{study['wall_s'] / study['bound_s']:.2f}x the bound" if study["wall_s"] else ""))
        if study["missing_records"]:
            print(f"no record for: {', '.join(study['missing_records'])}")
        files.write_json(os.path.join("metrics", "benchmark_study.json"), study)
        return
    flops = training_flops(params.model_spec(params.load(), "baseline", 42))
    with tempfile.TemporaryDirectory() as scratch:
        data = os.path.join("data", "prepared")
        epochs = {"plain": ["--epochs", "15"], "plain_same_batch": ["--epochs", "15"], "default": [], "fast": []}
        if arguments.tiny:
            data = os.path.join(scratch, "data")
            tiny_data(data)
            epochs = {kind: ["--epochs", "1"] for kind in epochs}
        gemm = gemm_gflops(size=256 if arguments.tiny else GEMM_SIZE)
        results = {"cpu": cpu_model(), "gemm_fp32_gflops": gemm, "training_mflop_per_image": flops / 1e6, "target_val_accuracy": TARGET_ACCURACY}
        names = {"plain": "(a) plain Keras, batch 32", "plain_same_batch": "plain Keras, protocol's batch",
                 "default": "(b) ours, published protocol", "fast": "(c) ours, fast"}
        for kind, label in names.items():
            result = run_contender([kind, "--data", data, "--target", str(TARGET_ACCURACY), *epochs[kind]], scratch)
            images_per_s = result["batch_size"] / result["median_step_s"]
            result.update(
                images_per_s=images_per_s,
                gflops=images_per_s * flops / 1e9,
                gemm_fraction=images_per_s * flops / 1e9 / gemm,
                seconds_to_target=(result["reached"] or {}).get("seconds"),
                epochs_to_target=(result["reached"] or {}).get("epoch"),
            )
            results[kind] = result
            print(f"{label}: done in {result['wall_s']:.0f} s", flush=True)
        if not arguments.no_levers:
            from benchmarks.contender import LEVERS

            results["levers"] = {}
            for lever in LEVERS:
                result = run_contender(["lever", "--lever", lever, "--data", data], scratch)
                result["images_per_s"] = result["batch_size"] / result["median_step_s"]
                results["levers"][lever] = result
        results["stages"] = stage_resources()
    print_table(results, names)
    if not arguments.tiny:
        files.write_json(OUTPUT, results)
        print(f"wrote {OUTPUT}")


def print_table(results, names):
    print(f"\nCPU: {results['cpu']}")
    print(f"fp32 GEMM ({GEMM_SIZE}x{GEMM_SIZE}): {results['gemm_fp32_gflops']:.0f} GFLOP/s; "
          f"the baseline trains at {results['training_mflop_per_image']:.2f} MFLOP per image")
    print(f"{'':28} {'step ms':>8} {'img/s':>7} {'GFLOP/s':>8} {'GEMM %':>7} {'s to ' + str(TARGET_ACCURACY):>9} "
          f"{'epochs':>6} {'final val':>9} {'peak MiB':>8}")
    for kind, label in names.items():
        r = results[kind]
        reached = "never" if r["seconds_to_target"] is None else f"{r['seconds_to_target']:.0f}"
        print(f"{label:28} {r['median_step_s'] * 1e3:8.1f} {r['images_per_s']:7.0f} {r['gflops']:8.1f} "
              f"{r['gemm_fraction'] * 100:6.0f}% {reached:>9} {r['epochs_to_target'] or '-':>6} "
              f"{r['final_val_accuracy']:9.4f} {r['peak_rss_mib']:8.0f}")
    if results["plain"]["seconds_to_target"] and results["fast"]["seconds_to_target"]:
        print(f"time to {TARGET_ACCURACY}: (a) / (c) = "
              f"{results['plain']['seconds_to_target'] / results['fast']['seconds_to_target']:.2f}x")
    for lever, r in results.get("levers", {}).items():
        print(f"  lever {lever:40} batch {r['batch_size']:4} step {r['median_step_s'] * 1e3:7.1f} ms {r['images_per_s']:7.0f} img/s")
    if results["stages"]:
        worst = max(results["stages"], key=lambda record: record["peak_rss_mib"])
        total = sum(record["wall_s"] for record in results["stages"])
        print(f"pipeline stages recorded in logs/resources/: {len(results['stages'])}, "
              f"largest peak memory {worst['peak_rss_mib']:.0f} MiB ({worst['stage']}), "
              f"wall time of them all {total / 60:.1f} min")


if __name__ == "__main__":
    main()
