"""Training speed on this machine: the plain Keras script, our training path, and the `fast` protocol.

    python -m benchmarks.benchmark            # the real data, about 16 minutes; writes metrics/benchmark.json
    python -m benchmarks.benchmark --tiny     # tiny random data, a minute: proves it runs (the test suite's)
    python -m benchmarks.benchmark --study    # only the study section: logs/resources/ against the arithmetic bound
    python -m benchmarks.benchmark --output metrics/benchmark-intel-xeon.json   # another machine's run, beside this one
    python -m benchmarks.benchmark --variants # only the variants section: the study's steps, variant by variant
    python -m benchmarks.benchmark --variants --what-if batch_norm_kernel=fused --where batch_norm=true

Each contender runs in its own process, on the baseline model. Step time, in
`--repeats` rounds that interleave every setup (a noisy machine slows whole
stretches of time, so each setup sees the same stretches; the median over rounds
is reported with the lowest and highest):
  plain_same_batch     the plain script (benchmarks/plain_keras.py) at the protocol's batch and precision
  default              our training path (study/fitting.py) at the `reproduce` protocol, one training
  default_two_at_once  two such trainings side by side, as scripts/repro_parallel.py runs the study
  default_bf16[_two_at_once]  the same in bf16 mixed precision: a what-if (the study trains in float32)
  levers               our model at Keras's defaults with one setting changed (benchmarks/contender.py)
`--variants` times, two at once and interleaved the same way, one variant of each
group of the study's trainings whose steps cost the same (STEP_NEUTRAL_KEYS), and
sums the study's trained images over those rates: the wall time of the study's
steps alone, against its arithmetic bound.
Time to validation accuracy TARGET_ACCURACY, one full training each: (a) `plain`, the
plain script at Keras's defaults (batch 32, 15 epochs), and (c) `fast`, our path at
`protocols.fast`. Images/s are the batch over the median step time (the steps
alone, without validation or checkpoints); GFLOP/s count the fp32 model's FLOPs
(study/flops.py) whatever precision runs, against the fp32 GEMM rate measured in
this run. The CPU model is printed and recorded beside the figures. Run it on a
quiet machine.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from benchmarks.contender import key_and_value
from study import files, params
from study.flops import study_trainings, training_flops

TARGET_ACCURACY = 0.915
GEMM_SIZE = 2048
OUTPUT = os.path.join("metrics", "benchmark.json")
# Keys of a spec that change the numbers a step computes with, not its work: the
# learning rate and its schedule, the epochs, and which pre-made training set (an
# augmented copy is read like the train split). Variants differing only in these
# are timed once.
STEP_NEUTRAL_KEYS = ("learning_rate", "lr_schedule", "epochs", "augmentation", "seed")


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


def study_section(gemm, wall_s=None):
    """The study's trainings against their arithmetic at the fp32 GEMM rate: bound_s, and the recorded stages."""
    records = {record["stage"]: record for record in stage_resources()}
    trainings = study_trainings(params.load())
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
    }


def write_section(output, name, section):
    """Rewrites section `name` of the figures in `output`, keeping the others (run on the same machine)."""
    results = {}
    if os.path.isfile(output):
        with open(output) as stream:
            results = json.load(stream)
    files.write_json(output, {**results, name: section})
    print(f"wrote the {name} section of {output}")


def stage_variant(stage, all_params):
    """The variant a training stage of study_trainings trains: `train <variant> --seed N`, or the k-fold's."""
    return stage.split()[1] if stage.startswith("train ") else params.kfold_params(all_params)["variant"]


def step_groups(all_params, trainings=None):
    """{variant timed: [the study's training stages whose steps cost the same]}, in the order of params.yaml.

    `trainings`: study_trainings(all_params), when the caller has it already (it reads the data's sizes).
    """
    groups = {}
    for stage, (_, spec) in (trainings or study_trainings(all_params)).items():
        key = json.dumps({k: v for k, v in spec.items() if k not in STEP_NEUTRAL_KEYS}, sort_keys=True)
        groups.setdefault(key, (stage_variant(stage, all_params), []))[1].append(stage)
    return dict(groups.values())


def variants_section(data, scratch, repeats, gemm, what_if=None, where=None):
    """Each group's rate two at once, and the study's steps timed at those rates against the bound.

    `what_if` ("key=value"), for the groups whose spec has `where` ("key=value"): those groups
    are timed as well with the key changed, interleaved with the rest, and the study's steps are
    summed again with those rates.
    """
    all_params = params.load()
    trainings = study_trainings(all_params)
    groups = step_groups(all_params, trainings)
    spec_of = {name: trainings[stages[0]][1] for name, stages in groups.items()}
    flops_of = {name: training_flops(spec) for name, spec in spec_of.items()}
    images_of = {name: sum(trainings[stage][0] for stage in stages) for name, stages in groups.items()}
    condition = key_and_value(where) if where else None
    changed = [] if what_if is None else [
        name for name in groups if condition is None or spec_of[name].get(condition[0]) == condition[1]]
    setups = {f"variant:{name}_two_at_once": name for name in groups}
    setups.update({f"variant:{name}@{what_if}_two_at_once": name for name in changed})
    measured = interleaved(list(setups), data, scratch, repeats,
                           {setup: flops_of[name] for setup, name in setups.items()}, gemm)
    section = {"cpu": cpu_model(), "gemm_fp32_gflops": gemm, "repeats": repeats, "what_if": what_if,
               "where": where, "groups": {}}
    for setup, name in setups.items():
        images, flops = images_of[name], flops_of[name]
        figures = {**measured[setup], "mflop_per_image": flops / 1e6, "trainings": groups[name], "images": images,
                   "steps_s": images / measured[setup]["images_per_s"], "bound_s": images * flops / (gemm * 1e9)}
        if "@" in setup:
            section["groups"][name]["what_if"] = figures
        else:
            section["groups"][name] = figures
    section["steps_s"] = sum(group["steps_s"] for group in section["groups"].values())
    section["bound_s"] = sum(group["bound_s"] for group in section["groups"].values())
    section["steps_vs_bound"] = section["steps_s"] / section["bound_s"]
    if what_if is not None:
        section["what_if_steps_s"] = sum(group.get("what_if", group)["steps_s"] for group in section["groups"].values())
        section["what_if_steps_vs_bound"] = section["what_if_steps_s"] / section["bound_s"]
    return section


def print_variants(section):
    print(f"\nCPU: {section['cpu']}; fp32 GEMM {section['gemm_fp32_gflops']:.0f} GFLOP/s; the study's trainings "
          f"by what their steps cost, two at once, median of {section['repeats']} interleaved round(s):")
    print(f"{'variant timed':44} {'batch':>5} {'MFLOP':>6} {'img/s':>7} {'GEMM %':>7} {'trainings':>9} "
          f"{'steps min':>9} {'bound min':>9}")
    for name, group in section["groups"].items():
        for label, figures in ((name, group), (f"  with {section['what_if']}", group.get("what_if"))):
            if figures:
                print(f"{label:44} {figures['batch_size']:5} {figures['mflop_per_image']:6.1f} "
                      f"{figures['images_per_s']:7.0f} {figures['gemm_fraction'] * 100:6.0f}% "
                      f"{len(figures['trainings']):9} {figures['steps_s'] / 60:9.1f} {figures['bound_s'] / 60:9.1f}")
    print(f"the study's steps at these rates: {section['steps_s'] / 60:.1f} min, {section['steps_vs_bound']:.2f}x its "
          f"arithmetic bound of {section['bound_s'] / 60:.1f} min (before start-up, validation, checkpoints)")
    if section["what_if"]:
        print(f"with {section['what_if']} where {section['where'] or 'every group'}: "
              f"{section['what_if_steps_s'] / 60:.1f} min, {section['what_if_steps_vs_bound']:.2f}x the bound")


def stage_resources():
    records = []
    for path in sorted(glob.glob(os.path.join("logs", "resources", "*.json"))):
        with open(path) as stream:
            records.append(json.load(stream))
    return records


def step_setups(tiny):
    from benchmarks.contender import CONTENDERS, LEVERS, OUR_PATH

    levers = list(LEVERS)[:2] if tiny else list(LEVERS)  # tiny: the plumbing of one lever besides the reference
    return [*CONTENDERS, *(f"{name}_two_at_once" for name in OUR_PATH), *(f"lever:{name}" for name in levers)]


def contender_arguments(setup, data):
    """The contender's arguments for one process of `setup`. `variant:<name>@<key>=<value>` is the
    variant with that key of its spec changed."""
    name, _, change = setup.removesuffix("_two_at_once").partition("@")
    return ["steps", "--setup", name, *(["--set", change] if change else []), "--data", data]


def run_setup(setup, data, scratch):
    """One round of `setup`: images/s (the sum of both processes for two at once) and peak memory."""
    if setup.endswith("_two_at_once"):
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda _: run_contender(contender_arguments(setup, data), scratch), range(2)))
        return {"images_per_s": sum(r["batch_size"] / r["median_step_s"] for r in results),
                "batch_size": results[0]["batch_size"], "peak_rss_mib": max(r["peak_rss_mib"] for r in results)}
    result = run_contender(contender_arguments(setup, data), scratch)
    return {"images_per_s": result["batch_size"] / result["median_step_s"], "batch_size": result["batch_size"],
            "peak_rss_mib": result["peak_rss_mib"]}


def interleaved(setups, data, scratch, repeats, flops, gemm):
    """{setup: median images/s over `repeats` rounds, its range, GFLOP/s and share of the GEMM rate}.

    `flops`: FLOPs per trained image, one figure for every setup or {setup: figure}.
    """
    rounds = {setup: [] for setup in setups}
    for round_number in range(repeats):
        for setup in setups:
            rounds[setup].append(run_setup(setup, data, scratch))
        print(f"round {round_number + 1} of {repeats} done", flush=True)

    def setup_flops(setup):
        return flops[setup] if isinstance(flops, dict) else flops

    summary = {}
    for setup, runs in rounds.items():
        rates = [run["images_per_s"] for run in runs]
        median = float(np.median(rates))
        summary[setup.removeprefix("lever:")] = {
            "images_per_s": median, "images_per_s_low": min(rates), "images_per_s_high": max(rates),
            "images_per_s_runs": rates, "batch_size": runs[0]["batch_size"],
            "gflops": median * setup_flops(setup) / 1e9, "gemm_fraction": median * setup_flops(setup) / 1e9 / gemm,
            "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
        }
    return summary


def refuse_bad_what_if(parser, arguments):
    """One line naming what to fix, before any timing: --what-if and --where are keys of a spec, with --variants."""
    if (arguments.what_if or arguments.where) and not arguments.variants:
        parser.error("--what-if and --where: only with --variants")
    if arguments.where and not arguments.what_if:
        parser.error("--where: only with --what-if")
    for option, assignment in (("--what-if", arguments.what_if), ("--where", arguments.where)):
        if assignment is None:
            continue
        if key_and_value(assignment) is None:
            parser.error(f"{option} {assignment}: expected KEY=VALUE")
        try:
            params.check_keys(dict([key_and_value(assignment)]), params.MODEL_KEYS, option, partial=True)
        except params.ParamsError as error:
            parser.error(str(error))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random data, one round; writes nothing")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of the step-time setups")
    parser.add_argument("--study", action="store_true", help="only the study section: the GEMM rate, the stages' "
                        "records in logs/resources/ and the arithmetic bound; rewrites that section of --output")
    parser.add_argument("--variants", action="store_true", help="only the variants section: one variant of each "
                        "group of the study's trainings, timed two at once; rewrites that section of --output")
    parser.add_argument("--what-if", metavar="KEY=VALUE", help="with --variants: time the groups again with this "
                        "key of their spec changed, e.g. batch_norm_kernel=fused")
    parser.add_argument("--where", metavar="KEY=VALUE", help="with --what-if: only the groups whose spec has this, "
                        "e.g. batch_norm=true")
    parser.add_argument("--study-wall-s", type=float, help="the whole study's measured wall time, to record beside the bound")
    parser.add_argument("--output", default=OUTPUT, help=f"where the figures go (default {OUTPUT}); a run on another "
                        "CPU family goes beside it, so that each file holds figures measured side by side in one run")
    arguments = parser.parse_args()
    refuse_bad_what_if(parser, arguments)
    if arguments.study:
        gemm = gemm_gflops()
        study = study_section(gemm, arguments.study_wall_s)
        print(f"CPU: {study['cpu']}; fp32 GEMM {gemm:.0f} GFLOP/s")
        # A fresh clone has no logs/resources/ records: then there is no peak to print.
        peak = study["largest_peak_rss_mib"]
        print(f"study: arithmetic bound {study['bound_s'] / 60:.1f} min; stages recorded {study['stages_wall_s'] / 60:.1f} "
              f"min ({study['training_stages_wall_s'] / 60:.1f} in trainings, run two at a time); largest peak "
              + ("none recorded" if peak is None else f"{peak:.0f} MiB") + (f"; wall {study['wall_s'] / 60:.1f} min, "
              f"{study['wall_s'] / study['bound_s']:.2f}x the bound" if study["wall_s"] else ""))
        if study["missing_records"]:
            print(f"no record for: {', '.join(study['missing_records'])}")
        write_section(arguments.output, "study", study)
        return
    if arguments.variants:
        with tempfile.TemporaryDirectory() as scratch:
            section = variants_section(os.path.join("data", "prepared"), scratch, arguments.repeats, gemm_gflops(),
                                       arguments.what_if, arguments.where)
        print_variants(section)
        write_section(arguments.output, "variants", section)
        return
    flops = training_flops(params.model_spec(params.load(), "baseline", 42))
    with tempfile.TemporaryDirectory() as scratch:
        data, plain_epochs, repeats = os.path.join("data", "prepared"), ["--epochs", "15"], arguments.repeats
        if arguments.tiny:
            data, plain_epochs, repeats = os.path.join(scratch, "data"), ["--epochs", "1"], 1
            tiny_data(data)
        gemm = gemm_gflops(size=256 if arguments.tiny else GEMM_SIZE)
        results = {"cpu": cpu_model(), "gemm_fp32_gflops": gemm, "training_mflop_per_image": flops / 1e6,
                   "target_val_accuracy": TARGET_ACCURACY, "repeats": repeats}
        results["steps"] = interleaved(step_setups(arguments.tiny), data, scratch, repeats, flops, gemm)
        for kind, epochs in (("plain", plain_epochs), ("fast", ["--epochs", "1"] if arguments.tiny else [])):
            result = run_contender([kind, "--data", data, "--target", str(TARGET_ACCURACY), *epochs], scratch)
            result["seconds_to_target"] = (result["reached"] or {}).get("seconds")
            result["epochs_to_target"] = (result["reached"] or {}).get("epoch")
            results[kind] = result
            print(f"{kind}: done in {result['wall_s']:.0f} s", flush=True)
        results["ratios"] = ratios(results)
        results["stages"] = stage_resources()
        if not arguments.tiny:
            results["study"] = study_section(gemm)
    print_table(results)
    if not arguments.tiny:
        files.write_json(arguments.output, results)
        print(f"wrote {arguments.output}")


def ratios(results):
    """The issue's yardsticks: our path against plain Keras at the same batch, and fast against plain to the target."""
    steps = results["steps"]
    plain, fast = results["plain"]["seconds_to_target"], results["fast"]["seconds_to_target"]

    def against_plain(setup):
        return steps[setup]["images_per_s"] / steps["plain_same_batch"]["images_per_s"]

    return {
        "default_vs_plain_same_batch": against_plain("default"),
        "two_at_once_vs_plain_same_batch": against_plain("default_two_at_once"),
        "bf16_vs_plain_same_batch": against_plain("default_bf16"),
        "bf16_two_at_once_vs_plain_same_batch": against_plain("default_bf16_two_at_once"),
        "fast_sooner_than_plain": plain / fast if plain and fast else None,
    }


def print_table(results):
    print(f"\nCPU: {results['cpu']}")
    print(f"fp32 GEMM ({GEMM_SIZE}x{GEMM_SIZE}): {results['gemm_fp32_gflops']:.0f} GFLOP/s; "
          f"the baseline trains at {results['training_mflop_per_image']:.2f} MFLOP per image")
    print(f"step time, median of {results['repeats']} interleaved round(s) [lowest, highest]:")
    print(f"{'':44} {'batch':>5} {'img/s':>7} {'range':>15} {'GFLOP/s':>8} {'GEMM %':>7} {'peak MiB':>8}")
    for setup, r in results["steps"].items():
        spread = f"[{r['images_per_s_low']:.0f}, {r['images_per_s_high']:.0f}]"
        print(f"{setup:44} {r['batch_size']:5} {r['images_per_s']:7.0f} {spread:>15} {r['gflops']:8.1f} "
              f"{r['gemm_fraction'] * 100:6.0f}% {r['peak_rss_mib']:8.0f}")
    print(f"time to validation {TARGET_ACCURACY}, one full training each:")
    for kind, label in (("plain", "(a) plain Keras, batch 32"), ("fast", "(c) ours, fast")):
        r = results[kind]
        reached = "never" if r["seconds_to_target"] is None else f"{r['seconds_to_target']:.0f} s, epoch {r['epochs_to_target']}"
        print(f"  {label:28} {reached:>18}; final validation {r['final_val_accuracy']:.4f} after {r['epochs']} "
              f"epochs, {r['wall_s']:.0f} s; peak {r['peak_rss_mib']:.0f} MiB")
    ratio = results["ratios"]
    print(f"default / plain_same_batch: {ratio['default_vs_plain_same_batch']:.2f}x; two at once / plain_same_batch: "
          f"{ratio['two_at_once_vs_plain_same_batch']:.2f}x; "
          + ("plain or fast never reached the target" if ratio["fast_sooner_than_plain"] is None
             else f"fast reaches the target {ratio['fast_sooner_than_plain']:.2f}x sooner than plain"))
    print(f"what-if, the study in bf16: one training {ratio['bf16_vs_plain_same_batch']:.2f}x, two at once "
          f"{ratio['bf16_two_at_once_vs_plain_same_batch']:.2f}x plain_same_batch")
    if results["stages"]:
        worst = max(results["stages"], key=lambda record: record["peak_rss_mib"])
        total = sum(record["wall_s"] for record in results["stages"])
        print(f"pipeline stages recorded in logs/resources/: {len(results['stages'])}, "
              f"largest peak memory {worst['peak_rss_mib']:.0f} MiB ({worst['stage']}), "
              f"wall time of them all {total / 60:.1f} min")


if __name__ == "__main__":
    main()
