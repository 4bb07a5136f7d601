"""`dvc repro` with the trainings spread over a Dask cluster, shared through a DVC remote's run-cache.

    python scripts/dask_repro.py                          # a Dask LocalCluster on this machine
    python scripts/dask_repro.py 'train@kernel7-*'        # only these stages (fnmatch) and what they need
    python scripts/dask_repro.py --scheduler tcp://head:8786 --repository https://git.example/study.git

Needs a DVC remote that every worker reaches (docs/sharing.md): the default remote, or
`--remote NAME`. The coordinator (this process):
  1. runs `dvc repro` of the data stages here and shares them (`python -m study.sharing`);
  2. sends one task per training stage that `dvc repro` would run, the most work first.
     A worker keeps its own clone of `--repository` (default: this one) under
     `--work-dir`, checks out this commit with this workspace's changes to params.yaml,
     dvc.yaml, stages/ and study/, runs `dvc repro --pull <stage>` there (its data comes
     from the remote) and shares the stage the same way;
  3. drops those stages' entries from dvc.lock and runs `dvc repro --pull` here, which
     restores each training from the workers' run-cache records instead of running it,
     then runs the later stages.
The commands, outputs and dvc.lock are those of plain `dvc repro`. Without --scheduler
it starts a LocalCluster of cores / a training's threads workers, one task at a time
each. On a cluster, start the workers with the project's environment (the same Python
packages) and give --scheduler the scheduler's address: dask-jobqueue's SLURMCluster or
dask-kubernetes start such workers on Slurm or Kubernetes.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import time

# scripts/ is this script's folder, so on sys.path; importing the runner puts the
# project root there too.
import repro_parallel as runner

from study import config, errors, sharing

# The files a stage reads besides its data: a worker gets this workspace's changes to them.
INPUTS = ("params.yaml", "dvc.yaml", "stages", "study")


def output_of(*command, cwd="."):
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


def remote_url(name=None):
    """The URL of the remote `name` (default: the default remote), a local path made absolute."""
    from dvc.repo import Repo

    with Repo(".") as repo:
        name = name or repo.config["core"].get("remote")
        if not name or name not in repo.config["remote"]:
            raise errors.ParamsError(
                "no DVC remote to share the trainings through: add one (docs/sharing.md), "
                "for example `dvc remote add -d shared /mnt/nas/fashion-mnist-dvc`"
            )
        url = repo.config["remote"][name]["url"]
    # DVC resolves a relative local path from .dvc/; workers get it absolute.
    return url if "://" in url else os.path.abspath(os.path.join(".dvc", url))


def train_on_worker(stage, repository, commit, patch, url, work_dir):
    """Runs one training stage in this worker's own clone and shares it through the remote at `url`;
    returns (stage, worker, return code, output, seconds)."""
    import dask.config
    from dask.distributed import get_worker

    started = time.time()
    # The clone is kept for the worker's next task (and run), with the data it pulled.
    # A worker's name may be its address (tcp://host:port): only its safe characters name the folder.
    worker = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{socket.gethostname()}-worker-{get_worker().name}")
    clone = os.path.join(work_dir, worker)
    python = sys.executable
    environment = dict(os.environ, PATH=os.path.dirname(python) + os.pathsep + os.environ.get("PATH", ""))
    # Dask's nanny starts each worker with settings for array work (one OpenMP thread, and glibc
    # returning freed memory at once); a training set apart runs about a fifth slower under them.
    for name in dask.config.get("distributed.nanny.pre-spawn-environ", {}):
        environment.pop(name, None)

    def step(*command):
        result = subprocess.run(command, cwd=clone, env=environment, capture_output=True, text=True)
        return result.returncode, result.stdout + result.stderr

    if not os.path.isdir(os.path.join(clone, ".git")):
        os.makedirs(work_dir, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", repository, clone], check=True)
    patch_file = os.path.join(clone, ".git", "dask_repro.patch")
    with open(patch_file, "w") as stream:
        stream.write(patch)
    steps = [
        ("git", "fetch", "--quiet", "origin"),
        ("git", "checkout", "--quiet", "--force", "--detach", commit),
        *([("git", "apply", "--binary", patch_file)] if patch else []),
        (python, "-m", "dvc", "remote", "add", "--local", "--force", "--default", "dask_repro", url),
        (python, "-m", "dvc", "repro", "--pull", stage),
        (python, "-m", "study.sharing", "--remote", "dask_repro"),
    ]
    outputs = []
    for command in steps:
        returncode, output = step(*command)
        outputs.append(output)
        if returncode != 0:
            return stage, worker, returncode, f"$ {' '.join(command)}\n{output}", time.time() - started
    return stage, worker, 0, "".join(outputs), time.time() - started


def forget_locked_runs(names):
    """Drops the entries of the stages `names` from dvc.lock.

    A stage that dvc.lock names but whose outputs are missing here (a clone without the
    committed models) is restored by `dvc repro --pull` from the outputs that dvc.lock
    names, never from a run-cache record. A worker's training has the same weights, metrics
    and predictions as the committed one, but its model file other bytes (the .keras archive
    holds the time it was written), so without its entry the stage is restored from the
    worker's record instead.
    """
    from dvc.dvcfile import Lockfile
    from dvc.repo import Repo, lock_repo

    with Repo(".") as repo, lock_repo(repo):
        lockfile = Lockfile(repo, "dvc.lock")
        for stage in repo.index.stages:
            if stage.addressing in names:
                lockfile.remove_stage(stage)


# A task here waits on one long training process. Dask's sampling of what its workers do (a
# profile every 10 ms, memory every 100 ms, the machine every 500 ms) then only takes CPU from the
# trainings: on two cores the two trainings ran 18% slower with it. For workers started by hand,
# the same settings are environment variables (docs/sharing.md).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "10s",
    "distributed.admin.system-monitor.interval": "10s",
    "distributed.admin.system-monitor.gil.enabled": False,
}


def cluster_client(scheduler, jobs):
    import dask.config
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    # Processes, not threads: a training holds the interpreter, and each worker runs one at a time.
    with dask.config.set(QUIET_WORKERS):
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", help="a Dask scheduler's address (default: a LocalCluster)")
    parser.add_argument("--jobs", type=int, help="a LocalCluster's workers (default: cores / threads)")
    parser.add_argument("--remote", help="the DVC remote the workers share (default: the default remote)")
    parser.add_argument("--repository", default=os.getcwd(), help="where workers clone from (default: here)")
    parser.add_argument(
        "--work-dir",
        default=os.path.join(os.path.expanduser("~"), ".cache", "fashion-mnist-dask"),
        help="each worker's clone goes under this folder, on the worker's machine",
    )
    parser.add_argument(
        "targets", nargs="*", metavar="STAGE", help="only these stages and their deps (fnmatch)"
    )
    arguments = parser.parse_args()
    runner.NAME = "dask_repro"
    with errors.refused_in_one_line():
        jobs = arguments.jobs or runner.default_jobs(config.load())
        url = remote_url(arguments.remote)
    commit = output_of("git", "rev-parse", "HEAD").strip()
    # This workspace's changes to what the stages read, for the workers to apply at the commit.
    patch = output_of("git", "diff", "--binary", "HEAD", "--", *INPUTS)

    runner.dvc("repro", *runner.DATA_STAGES)
    sharing.push_runs(remote=arguments.remote)
    with errors.refused_in_one_line():
        stages = runner.changed_trainings(targets=arguments.targets)

    from dask.distributed import as_completed

    failed, progress = [], runner.Progress(stages)
    with cluster_client(arguments.scheduler, jobs if stages else 0) as client:
        workers = len(client.scheduler_info()["workers"])
        runner.say(f"{len(stages)} training stage(s) to run on {workers} Dask worker(s)")
        futures = [
            # The most work first: Dask starts a task of higher priority sooner.
            client.submit(
                train_on_worker,
                name,
                arguments.repository,
                commit,
                patch,
                url,
                arguments.work_dir,
                key=f"train-{name}",
                pure=False,
                priority=-index,
            )
            for index, (name, _) in enumerate(stages)
        ]
        for future in as_completed(futures):
            name, worker, returncode, output, seconds = future.result()
            if returncode != 0:
                failed.append(name)
                runner.say(f"{name} failed on {worker} after {seconds:.0f} s:\n{output}")
                continue
            runner.say(f"{name} done on {worker} in {seconds:.0f} s")
            progress.training_ended(name)
    if failed:
        sys.exit(f"dask_repro: {len(failed)} stage(s) failed: {', '.join(failed)}")
    forget_locked_runs({name for name, _ in stages})
    # Every training is on the remote with its run-cache record: this restores them, then runs the rest.
    runner.dvc("repro", "--pull", *(["--glob", *arguments.targets] if arguments.targets else []))


if __name__ == "__main__":
    main()
