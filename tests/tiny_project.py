"""The study's own DVC project on the tiny data set, in a git repository of a temporary folder.

Each test that runs the real pipeline across clones (tests/test_sharing.py,
tests/test_dask_repro.py) starts from `make`, and runs git and DVC through `dvc` and
`git`, which fail with the command's output.
"""

import os
import shutil
import subprocess
import sys

import yaml

from tests import tiny_data

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What a stage reads from the project: its code, the pipeline and the params.
COPIED = ("stages", "study", "scripts", "dvc.yaml", "params.yaml", ".gitignore")


def environment(**extra):
    env = dict(os.environ)
    # `python` in a stage's command and `dvc` are this test's venv.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    env.update(
        GIT_AUTHOR_NAME="Sharing Test",
        GIT_AUTHOR_EMAIL="sharing-test@example.invalid",
        GIT_COMMITTER_NAME="Sharing Test",
        GIT_COMMITTER_EMAIL="sharing-test@example.invalid",
        DVC_NO_ANALYTICS="1",
    )
    env.pop("FASHION_MNIST_DIR", None)
    env.update(extra)
    return env


def run(command, cwd, timeout=600, **extra_environment):
    result = subprocess.run(
        command,
        cwd=cwd,
        env=environment(**extra_environment),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed in {cwd}:\n{output}"
    return output


def dvc(*arguments, cwd, **extra_environment):
    return run([sys.executable, "-m", "dvc", *arguments], cwd, **extra_environment)


def git(*arguments, cwd):
    return run(["git", *arguments], cwd)


def missing_deps(root):
    """Paths under stages/ or study/ that dvc.yaml names and the copy lacks."""
    with open(root / "dvc.yaml") as stream:
        pipeline = yaml.safe_load(stream)
    named = {
        dep
        for stage in pipeline["stages"].values()
        for dep in stage.get("do", stage).get("deps", [])
        if isinstance(dep, str) and dep.startswith(("stages/", "study/"))
    }
    return sorted(path for path in named if not (root / path).exists())


def make(tmp_path, name="a"):
    """The project at tmp_path/name on tiny data (one seed), committed, with the local-directory
    remote tmp_path/remote as its default; returns (root, remote). None if dvc.yaml names files
    that do not exist (tests/test_layout.py reports those)."""
    root, remote = tmp_path / name, tmp_path / "remote"
    for copied in COPIED:
        source = os.path.join(PROJECT, copied)
        if os.path.isdir(source):
            shutil.copytree(source, root / copied, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            os.makedirs(os.path.dirname(root / copied), exist_ok=True)
            shutil.copy(source, root / copied)
    if missing_deps(root):
        return None
    remote.mkdir()
    checksums = tiny_data.write_dataset(str(tmp_path / "source"))
    with open(root / "params.yaml") as stream:
        params = yaml.safe_load(stream)
    tiny_data.shrink_params(params, tmp_path / "source", checksums, seeds=[1])
    with open(root / "params.yaml", "w") as stream:
        yaml.safe_dump(params, stream, sort_keys=False)
    commit_as_project(root, remote)
    return root, remote


def commit_as_project(root, remote):
    """Makes the folder `root` a git and DVC repository whose default remote is the folder `remote`,
    and commits it."""
    git("init", "-q", cwd=root)
    dvc("init", "-q", cwd=root)
    dvc("config", "core.analytics", "false", cwd=root)
    dvc("remote", "add", "-d", "shared", str(remote), cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "a tiny study", cwd=root)


def clone(root, tmp_path, name, commit=None):
    git("clone", "-q", str(root), str(tmp_path / name), cwd=tmp_path)
    if commit:
        git("checkout", "-q", commit, cwd=tmp_path / name)
    return tmp_path / name
