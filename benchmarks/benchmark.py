"""Training speed on this machine: the plain Keras script, our training path, and the `fast` protocol.

    python -m benchmarks.benchmark            # every setup on the real data; writes metrics/benchmark.json
    python -m benchmarks.benchmark --tiny     # tiny random data: proves it runs (the test suite's),
                                              # writes nothing
    python -m benchmarks.benchmark --study    # only the study section: logs/resources/ against
                                              # the arithmetic bound
    python -m benchmarks.benchmark --output metrics/benchmark-intel-xeon.json
                                              # another machine's run, beside this one
    python -m benchmarks.benchmark --variants # only the variants section: the study's steps,
                                              # variant by variant
    python -m benchmarks.benchmark --variants --what-if batch_norm_kernel=fused --where batch_norm=true

docs/speed.md holds the figures of these runs and how long each takes.

Each contender runs in its own process, on the baseline model. Step time, in
`--repeats` rounds that interleave every setup (benchmarks/rounds.py):
  plain_same_batch     the plain script (benchmarks/plain_keras.py) at the protocol's batch and precision
  default              our training path (study/training/fitting.py) at the `reproduce` protocol, one training
  default_two_at_once  two such trainings side by side, as scripts/repro_parallel.py runs the study
  default_bf16[_two_at_once]  the same in bf16 mixed precision: a what-if (the study trains in float32)
  levers               our model at Keras's defaults with one setting changed (benchmarks/contender.py)
`--variants` (benchmarks/variants.py) times the study's steps variant by variant
against their arithmetic bound; `--study` (benchmarks/study_time.py) sets the
recorded stages against it.
Time to validation accuracy TARGET_ACCURACY, one full training each: (a) `plain`, the
plain script at Keras's defaults (batch 32, 15 epochs), and (c) `fast`, our path at
`protocols.fast`. Images/s are the batch over the median step time (the steps
alone, without validation or checkpoints); GFLOP/s count the fp32 model's FLOPs
(study/analysis/cost.py) whatever precision runs, against the fp32 GEMM rate measured in
this run. The CPU model is printed and recorded beside the figures. Run it on a
quiet machine.
"""

import argparse
import os
import tempfile

import numpy as np

from benchmarks import study_time, variants
from benchmarks.changes import check_changes, holds, key_and_value, study_with
from benchmarks.contender import CONTENDERS, LEVERS, OUR_PATH
from benchmarks.machine import GEMM_SIZE, cpu_model, gemm_gflops
from benchmarks.rounds import TWO_AT_ONCE, interleaved, run_contender
from study import config, errors, files
from study.analysis.cost import training_flops
from study.data import paths as data_paths
from study.errors import ParamsError

TARGET_ACCURACY = 0.915
OUTPUT = os.path.join("metrics", "benchmark.json")


def tiny_data(directory, count=256):
    """Random images of the right shape: the benchmark's plumbing, not its figures."""
    rng = np.random.default_rng(0)
    for split, size in (("train", count), ("val", count // 4)):
        files.save_split(
            data_paths.prepared(split, directory),
            rng.random((size, 28, 28, 1), dtype=np.float32),
            rng.integers(0, 10, size).astype(np.uint8),
        )


def write_section(output, name, section):
    """Rewrites section `name` of the figures in `output`, keeping the others (run on the same machine)."""
    results = files.read_json(output) if os.path.isfile(output) else {}
    files.write_json(output, {**results, name: section})
    print(f"wrote the {name} section of {output}")


def step_setups(tiny):
    """The step-time setups: the contenders, our path two at once, and the levers (in tiny mode the
    reference and one lever, which exercise every kind of setup)."""
    levers = list(LEVERS)[:2] if tiny else list(LEVERS)
    return [
        *CONTENDERS,
        *(f"{name}{TWO_AT_ONCE}" for name in OUR_PATH),
        *(f"lever:{name}" for name in levers),
    ]


def refuse_bad_what_if(parser, arguments):
    """One line naming what to fix, before any timing: --what-if and --where are keys of a spec, with
    --variants, and the what-if leaves every variant it applies to a spec that params.yaml could hold."""
    if (arguments.what_if or arguments.where) and not arguments.variants:
        parser.error("--what-if and --where: only with --variants")
    if arguments.where and not arguments.what_if:
        parser.error("--where: only with --what-if")
    if arguments.what_if is None:
        return
    changes = {}
    for option, assignment in (("--what-if", arguments.what_if), ("--where", arguments.where)):
        if assignment is None:
            continue
        if key_and_value(assignment) is None:
            parser.error(f"{option} {assignment}: expected KEY=VALUE")
        changes[option] = key_and_value(assignment)
    try:
        for option, (key, value) in changes.items():
            check_changes({key: value}, option)
        study = config.load()
        for name in study.variant_names:
            if "--where" not in changes or holds(study.spec(name), *changes["--where"]):
                study_with(study, name, dict([changes["--what-if"]]))
    except ParamsError as error:
        parser.error(str(error))


def steps_and_time_to_target(arguments):
    """Every step-time setup in interleaved rounds, then `plain` and `fast` each trained to the target."""
    flops = training_flops(config.load().spec("baseline", 42))
    with tempfile.TemporaryDirectory() as scratch:
        data, plain_epochs, repeats = data_paths.PREPARED_DIR, ["--epochs", "15"], arguments.repeats
        if arguments.tiny:
            data, plain_epochs, repeats = os.path.join(scratch, "data"), ["--epochs", "1"], 1
            tiny_data(data)
        gemm = gemm_gflops(size=256 if arguments.tiny else GEMM_SIZE)
        results = {
            "cpu": cpu_model(),
            "gemm_fp32_gflops": gemm,
            "training_mflop_per_image": flops / 1e6,
            "target_val_accuracy": TARGET_ACCURACY,
            "repeats": repeats,
        }
        results["steps"] = interleaved(step_setups(arguments.tiny), data, scratch, repeats, flops, gemm)
        for kind, epochs in (("plain", plain_epochs), ("fast", ["--epochs", "1"] if arguments.tiny else [])):
            result = run_contender([kind, "--data", data, "--target", str(TARGET_ACCURACY), *epochs], scratch)
            result["seconds_to_target"] = (result["reached"] or {}).get("seconds")
            result["epochs_to_target"] = (result["reached"] or {}).get("epoch")
            results[kind] = result
            print(f"{kind}: done in {result['wall_s']:.0f} s", flush=True)
        results["ratios"] = ratios(results)
        results["stages"] = study_time.stage_resources()
        if not arguments.tiny:
            results["study"] = study_time.section(gemm)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random data, one round; writes nothing")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of the step-time setups")
    parser.add_argument(
        "--study",
        action="store_true",
        help="only the study section: the GEMM rate, the stages' "
        "records in logs/resources/ and the arithmetic bound; rewrites that section of --output",
    )
    parser.add_argument(
        "--variants",
        action="store_true",
        help="only the variants section: one variant of each "
        "group of the study's trainings, timed two at once; rewrites that section of --output",
    )
    parser.add_argument(
        "--what-if",
        metavar="KEY=VALUE",
        help="with --variants: time the groups again with this "
        "key of their spec changed, e.g. batch_norm_kernel=fused",
    )
    parser.add_argument(
        "--where",
        metavar="KEY=VALUE",
        help="with --what-if: only the groups whose spec has this, e.g. batch_norm=true",
    )
    parser.add_argument(
        "--study-wall-s", type=float, help="the whole study's measured wall time, to record beside the bound"
    )
    parser.add_argument(
        "--output",
        default=OUTPUT,
        help=f"where the figures go (default {OUTPUT}); a run on another "
        "CPU family goes beside it, so that each file holds figures measured side by side in one run",
    )
    arguments = parser.parse_args()
    refuse_bad_what_if(parser, arguments)
    with errors.refused_in_one_line():
        run(arguments)


def run(arguments):
    """The sections that `arguments` ask for, printed, and written unless --tiny."""
    if arguments.study:
        study = study_time.section(gemm_gflops(), arguments.study_wall_s)
        study_time.print_section(study)
        write_section(arguments.output, "study", study)
        return
    if arguments.variants:
        with tempfile.TemporaryDirectory() as scratch:
            timed = variants.section(
                data_paths.PREPARED_DIR,
                scratch,
                arguments.repeats,
                gemm_gflops(),
                arguments.what_if,
                arguments.where,
            )
        variants.print_section(timed)
        write_section(arguments.output, "variants", timed)
        return
    results = steps_and_time_to_target(arguments)
    print_table(results)
    if not arguments.tiny:
        files.write_json(arguments.output, results)
        print(f"wrote {arguments.output}")


def ratios(results):
    """The benchmark's yardsticks: our path against plain Keras at the same batch (the same work
    per step), and `fast` against plain Keras to the target accuracy (what a user waits for)."""
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
    """The step rates, the times to the target and the ratios between them, as a table."""
    print(f"\nCPU: {results['cpu']}")
    print(
        f"fp32 GEMM ({GEMM_SIZE}x{GEMM_SIZE}): {results['gemm_fp32_gflops']:.0f} GFLOP/s; "
        f"the baseline trains at {results['training_mflop_per_image']:.2f} MFLOP per image"
    )
    print(f"step time, median of {results['repeats']} interleaved round(s) [lowest, highest]:")
    print(f"{'':44} {'batch':>5} {'img/s':>7} {'range':>15} {'GFLOP/s':>8} {'GEMM %':>7} {'peak MiB':>8}")
    for setup, r in results["steps"].items():
        spread = f"[{r['images_per_s_low']:.0f}, {r['images_per_s_high']:.0f}]"
        print(
            f"{setup:44} {r['batch_size']:5} {r['images_per_s']:7.0f} {spread:>15} {r['gflops']:8.1f} "
            f"{r['gemm_fraction'] * 100:6.0f}% {r['peak_rss_mib']:8.0f}"
        )
    print(f"time to validation {TARGET_ACCURACY}, one full training each:")
    for kind, label in (("plain", "(a) plain Keras, batch 32"), ("fast", "(c) ours, fast")):
        r = results[kind]
        reached = (
            "never"
            if r["seconds_to_target"] is None
            else f"{r['seconds_to_target']:.0f} s, epoch {r['epochs_to_target']}"
        )
        print(
            f"  {label:28} {reached:>18}; final validation {r['final_val_accuracy']:.4f} after {r['epochs']} "
            f"epochs, {r['wall_s']:.0f} s; peak {r['peak_rss_mib']:.0f} MiB"
        )
    ratio = results["ratios"]
    print(
        f"default / plain_same_batch: {ratio['default_vs_plain_same_batch']:.2f}x; "
        f"two at once / plain_same_batch: {ratio['two_at_once_vs_plain_same_batch']:.2f}x; "
        + (
            "plain or fast never reached the target"
            if ratio["fast_sooner_than_plain"] is None
            else f"fast reaches the target {ratio['fast_sooner_than_plain']:.2f}x sooner than plain"
        )
    )
    print(
        f"what-if, the study in bf16: one training {ratio['bf16_vs_plain_same_batch']:.2f}x, two at once "
        f"{ratio['bf16_two_at_once_vs_plain_same_batch']:.2f}x plain_same_batch"
    )
    if results["stages"]:
        worst = max(results["stages"], key=lambda record: record["peak_rss_mib"])
        total = sum(record["wall_s"] for record in results["stages"])
        print(
            f"pipeline stages recorded in logs/resources/: {len(results['stages'])}, "
            f"largest peak memory {worst['peak_rss_mib']:.0f} MiB ({worst['stage']}), "
            f"wall time of them all {total / 60:.1f} min"
        )


if __name__ == "__main__":
    main()
