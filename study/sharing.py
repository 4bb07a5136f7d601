"""Shares the stages run in this workspace through a DVC remote, so that another machine restores them.

    python -m study.sharing                  # to the default remote
    python -m study.sharing --remote NAME    # to another one

Another machine, at this commit or at any other where a stage has the same command,
dependencies and params, then restores those stages instead of running them:

    dvc repro --pull

DVC restores a stage there from its run-cache record only if every output the record
names is on the remote. `dvc push --run-cache` sends the records and the outputs kept in
DVC's cache, but not the outputs that git carries here (`cache: false`: metrics,
histories, test predictions), and `dvc repro` writes no record for a stage with such an
output under `outs` (a training's predictions). So this command:
  1. records every stage whose outputs are here and match dvc.lock, as `dvc commit` does
     (the record keeps a copy of each output that git carries in DVC's cache);
  2. runs `dvc push`, and pushes those copies;
  3. pushes those stages' records, and no others. `dvc push --run-cache` would push every
     record of the local cache, also those of earlier runs whose outputs are not on the
     remote; DVC restores a stage from its newest record only, so one such record on the
     remote would make other machines run the stage again.
"""

import argparse
import os
import sys


def record_runs(repo):
    """Writes the run-cache record of each stage of `repo` whose outputs all exist and match
    dvc.lock; returns those stages."""
    recorded = []
    for stage in repo.index.stages:
        if not stage.cmd or not stage.outs or not all(out.exists for out in stage.outs):
            continue
        if stage.changed():
            continue
        stage.save(run_cache=True)
        recorded.append(stage)
    return recorded


def push_runs(root=".", remote=None):
    """Records and pushes the stages of the DVC project at `root` (steps 1-3 above); returns
    the names of the stages recorded."""
    from dvc.repo import Repo, lock_repo

    with Repo(root) as repo, lock_repo(repo):
        stages = record_runs(repo)
        repo.push(remote=remote)
        kept_by_git = [out.hash_info for stage in stages for out in stage.outs if not out.use_cache]
        if kept_by_git:
            result = repo.cloud.push(kept_by_git, remote=remote)
            if result.failed:
                raise RuntimeError(f"could not push {len(result.failed)} output(s) to the remote")
        push_records(repo, stages, remote)
    return [stage.addressing for stage in stages]


def push_records(repo, stages, remote=None):
    """Copies the run-cache record of each of `stages` to the remote, where `dvc push --run-cache`
    puts it (runs/<key[:2]>/<key>/<value>)."""
    from dvc.stage.cache import _get_cache_hash, _get_stage_hash
    from dvc.stage.serialize import to_single_stage_lockfile
    from dvc_objects.fs.generic import copy

    local = repo.cache.legacy
    # The run-cache's own remote layout, as DVC's `push --run-cache` opens it.
    destination = repo.cloud.get_remote_odb(remote, "push --run-cache", hash_name="md5-dos2unix")
    for stage in stages:
        record = repo.stage_cache._get_cache_path(
            _get_stage_hash(stage), _get_cache_hash(to_single_stage_lockfile(stage))
        )
        parts = os.path.relpath(record, local.path).split(os.sep)
        copy(local.fs, record, destination.fs, destination.fs.join(destination.path, *parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--remote", "-r", default=None, help="a remote of `dvc remote list` (default: the default)"
    )
    arguments = parser.parse_args()
    from dvc.exceptions import DvcException

    try:
        names = push_runs(remote=arguments.remote)
    except (DvcException, RuntimeError) as error:  # no remote, an unreachable one: each names what to fix
        sys.exit(f"study.sharing: {error}")
    print(f"study.sharing: {len(names)} stage(s) recorded and pushed with their outputs")


if __name__ == "__main__":
    main()
