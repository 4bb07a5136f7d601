"""`dvc repro` with the training stages run several at a time.

    python scripts/repro_parallel.py            # as many at once as cores / a training's threads
    python scripts/repro_parallel.py --jobs 1   # one at a time, like plain `dvc repro`
    python scripts/repro_parallel.py --trainings-only   # stop before step 3 (`dvc repro` later)
    python scripts/repro_parallel.py --allow-missing    # a clone without the models: train only what changed
    python scripts/repro_parallel.py --first 'train@kernel7-*'   # these trainings before the others
    python scripts/repro_parallel.py 'train@kernel7-*'   # only these stages (fnmatch) and what they need

DVC runs one stage at a time, and at the study's batch of 32 a second training uses
a second core better than a second thread of one training does (docs/speed.md), so
params.yaml gives each training one thread (`baseline.threads`). The trainings are
independent stages, so this script:
  1. runs `dvc repro` of the data stages they read (fetch, prepare, augment);
  2. runs the command of every training stage that `dvc repro` would run,
     `--jobs` at a time, the most work first (images times FLOPs per image), and
     `dvc commit`s each one as soon as it ends, so that an interruption loses only
     the trainings still running (their checkpoints resume them next time);
  3. runs `dvc repro` for everything else (summaries, evaluation, report).
While the trainings run it prints each one's start, its epochs as they end, its end, and
an estimate of the time left: the work still to do at the rate of the work done so far.
The commands, outputs and dvc.lock are exactly those of plain `dvc repro`; a stage
fails the whole run (after the running ones end) with its output shown.
"""

import argparse
import fnmatch
import functools
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

sys.path.insert(0, ".")
from study import config, errors  # noqa: E402  (run from the project root)
from study.analysis.cost import study_trainings, training_flops  # noqa: E402

TRAINING_STAGES = ("train@", "train_augmented@", "train_recipe@", "kfold@", "kfold_carried")
DATA_STAGES = ("fetch", "prepare", "augment")


def dvc(*arguments):
    return subprocess.run([sys.executable, "-m", "dvc", *arguments], check=True)


def matches(name, patterns):
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def changed_trainings(allow_missing=False, first=(), targets=()):
    """[(stage name, command)] of the training stages `dvc repro` would run, of those matching
    a pattern of `targets` (fnmatch; none: all): those matching a pattern of `first`, then the
    rest, each group the most work first."""
    from dvc.repo import Repo

    with Repo(".") as repo:
        # Only the trainings and what they read are planned: a later stage that reads
        # a model not trained yet (a new variant's mirror@) would fail a dry run.
        trainings = [
            stage.addressing
            for stage in repo.index.stages
            if stage.addressing.startswith(TRAINING_STAGES)
            and (not targets or matches(stage.addressing, targets))
        ]
        planned = (
            repo.reproduce(targets=trainings, dry=True, allow_missing=allow_missing) if trainings else []
        )
    stages = [(stage.addressing, stage.cmd) for stage in planned if stage.addressing in trainings]
    # The most work first (images times FLOPs per image, from params.yaml), so that
    # a long training is not left to run alone at the end.
    work = training_work()
    return sorted(
        stages,
        key=lambda item: (
            not matches(item[0], first),
            -work.get(item[1].split(" -m stages.", 1)[-1], 0),
        ),
    )


@functools.cache  # the plan and the progress both read it: the split sizes are read once
def training_work():
    """{stage command's arguments: FLOPs of its training (images times FLOPs per image)}, from params.yaml."""
    return {
        stage: images * training_flops(spec)
        for stage, (images, spec) in study_trainings(config.load()).items()
    }


def default_jobs(study):
    """Cores over the threads of the most threaded training (one without a number takes every core)."""
    cores = os.cpu_count() or 1
    return max(1, cores // max(spec.threads or cores for spec in study.specs.values()))


# The name each line of progress starts with (scripts/dask_repro.py sets its own).
NAME = "repro_parallel"


def say(message):
    """One line of progress, written whole: the trainings' threads print side by side."""
    sys.stdout.write(f"{NAME}: {message}\n")
    sys.stdout.flush()


def run_stage(name, command):
    """Runs one stage's command, printing its start and its epochs as they end; returns
    (name, return code, output, seconds)."""
    started = time.time()
    say(f"{name} started")
    process = subprocess.Popen(
        command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    output = []
    for line in process.stdout:
        output.append(line)
        if line.startswith("Epoch "):
            say(f"{name}: {line.rstrip()}")
    return name, process.wait(), "".join(output), time.time() - started


def time_left(started, done_work, left_work):
    """Seconds still to go at the rate (work per wall second) of the trainings done so far."""
    return left_work * (time.time() - started) / done_work if done_work else None


class Progress:
    """Says after each training how many are done and about how long the rest will take."""

    def __init__(self, stages):
        all_work = training_work()
        self.count = len(stages)
        self.work = {name: all_work.get(command.split(" -m stages.", 1)[-1], 0) for name, command in stages}
        self.left_work, self.done_work, self.done = sum(self.work.values()), 0, 0
        self.started = time.time()

    def training_ended(self, name):
        self.done += 1
        self.left_work, self.done_work = self.left_work - self.work[name], self.done_work + self.work[name]
        left = time_left(self.started, self.done_work, self.left_work)
        estimate = f", about {left / 60:.0f} min left" if left is not None else ""
        minutes = (time.time() - self.started) / 60
        say(f"{self.done}/{self.count} trainings done in {minutes:.0f} min{estimate}")


def later_stages(allow_missing, targets):
    """`dvc repro`'s arguments for what follows the trainings: all, or the targets (as globs)."""
    return [*(["--allow-missing"] if allow_missing else []), *(["--glob", *targets] if targets else [])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="trainings at once (default: cores / the threads "
        "of a training, params.yaml `baseline.threads` as the protocol sets it)",
    )
    parser.add_argument(
        "--trainings-only", action="store_true", help="run and commit the trainings, not the later stages"
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="as dvc repro --allow-missing: skip stages whose only change is an output missing "
        "from this cache (a clone without the models)",
    )
    parser.add_argument(
        "--first",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run the training stages whose names match first (fnmatch, e.g. 'train@kernel7-*'); repeatable",
    )
    parser.add_argument(
        "targets", nargs="*", metavar="STAGE", help="only these stages and what they need (fnmatch patterns)"
    )
    arguments = parser.parse_args()
    with errors.refused_in_one_line():
        jobs = arguments.jobs or default_jobs(config.load())

    dvc("repro", *DATA_STAGES)
    with errors.refused_in_one_line():
        stages = changed_trainings(arguments.allow_missing, arguments.first, arguments.targets)
    say(f"{len(stages)} training stage(s) to run, {jobs} at a time")
    failed, progress = [], Progress(stages)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_stage, name, command) for name, command in stages]
        for future in as_completed(futures):
            name, returncode, output, seconds = future.result()
            if returncode != 0:
                failed.append(name)
                say(f"{name} failed after {seconds:.0f} s:\n{output}")
                continue
            # The commit also writes the stage's run-cache record (docs/sharing.md).
            dvc("commit", "--force", "--quiet", name)
            last_line = (output.strip().splitlines() or [""])[-1]
            say(f"{name} done in {seconds:.0f} s: {last_line}")
            progress.training_ended(name)
    if failed:
        sys.exit(f"repro_parallel: {len(failed)} stage(s) failed: {', '.join(failed)}")
    if not arguments.trainings_only:
        dvc("repro", *later_stages(arguments.allow_missing, arguments.targets))


if __name__ == "__main__":
    main()
