"""Step-time setups timed in interleaved rounds, each run in its own process (benchmarks/contender.py).

A noisy machine slows whole stretches of time, so every round runs every setup
once: each setup sees the same stretches, and the median over rounds is reported
with the lowest and highest.

A setup is a contender's name (`default`, `lever:<name>`, `variant:<name>`, the
last optionally `variant:<name>@<key>=<value>` with that key of its spec changed);
the suffix `_two_at_once` runs two such processes side by side, as
scripts/repro_parallel.py runs the study's trainings.
"""

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

TWO_AT_ONCE = "_two_at_once"


def run_contender(arguments, scratch):
    """The JSON result of one `python -m benchmarks.contender` process with `arguments`."""
    handle, out = tempfile.mkstemp(dir=scratch, suffix=".json")
    os.close(handle)
    command = [sys.executable, "-m", "benchmarks.contender", *arguments, "--out", out]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    with open(out) as stream:
        return json.load(stream)


def contender_arguments(setup, data):
    """The contender's arguments for one process of `setup`."""
    name, _, change = setup.removesuffix(TWO_AT_ONCE).partition("@")
    return ["steps", "--setup", name, *(["--set", change] if change else []), "--data", data]


def run_setup(setup, data, scratch):
    """One round of `setup`: images/s (the sum of both processes for two at once) and peak memory."""
    if setup.endswith(TWO_AT_ONCE):
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(
                pool.map(lambda _: run_contender(contender_arguments(setup, data), scratch), range(2))
            )
        return {
            "images_per_s": sum(r["batch_size"] / r["median_step_s"] for r in results),
            "batch_size": results[0]["batch_size"],
            "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
        }
    result = run_contender(contender_arguments(setup, data), scratch)
    return {
        "images_per_s": result["batch_size"] / result["median_step_s"],
        "batch_size": result["batch_size"],
        "peak_rss_mib": result["peak_rss_mib"],
    }


def interleaved(setups, data, scratch, repeats, flops, gemm):
    """{setup: median images/s over `repeats` rounds, its range, GFLOP/s and share of the GEMM rate}.

    `flops`: FLOPs per trained image, one figure for every setup or {setup: figure}.
    A lever is reported under its own name, without the `lever:` prefix.
    """
    rounds = {setup: [] for setup in setups}
    for round_number in range(repeats):
        for setup in setups:
            rounds[setup].append(run_setup(setup, data, scratch))
        print(f"round {round_number + 1} of {repeats} done", flush=True)

    summary = {}
    for setup, runs in rounds.items():
        rates = [run["images_per_s"] for run in runs]
        median = float(np.median(rates))
        gflops = median * (flops[setup] if isinstance(flops, dict) else flops) / 1e9
        summary[setup.removeprefix("lever:")] = {
            "images_per_s": median,
            "images_per_s_low": min(rates),
            "images_per_s_high": max(rates),
            "images_per_s_runs": rates,
            "batch_size": runs[0]["batch_size"],
            "gflops": gflops,
            "gemm_fraction": gflops / gemm,
            "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
        }
    return summary
