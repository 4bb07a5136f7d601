"""The layout: every stage's dvc.yaml deps are exactly the project modules it imports, and every path a
training stage writes in dvc.yaml is the one study.artifacts builds.

A module a stage imports but dvc.yaml does not list is a silent staleness bug:
editing it would not rerun the stage. A listed module the stage does not import
reruns it for nothing.
"""

import ast
import os

import pytest

from study import artifacts

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("stages", "study")


def module_file(name):
    """The project file of module `name` (a module or a package's __init__), or None outside the project."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = os.path.join(*name.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(os.path.join(PROJECT, candidate)):
            return candidate
    return None


def imported_modules(path):
    """The dotted names a file imports, at any depth (imports inside functions count: they run)."""
    tree = ast.parse(open(os.path.join(PROJECT, path)).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def transitive_files(module):
    """Every project file that running `python -m module` executes: the module, what it imports, and the
    __init__.py of every package on the way."""
    seen, pending = set(), [module]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:depth]))
            if path is not None and path not in seen:
                seen.add(path)
                pending.extend(imported_modules(path))
    return seen


def stages():
    from dvc.repo import Repo

    with Repo(PROJECT) as repo:
        return [(stage.addressing, stage.cmd, [os.path.relpath(dep.fs_path, PROJECT) for dep in stage.deps],
                 [os.path.relpath(out.fs_path, PROJECT) for out in stage.outs]) for stage in repo.index.stages]


STAGES = stages()


def covered(path, deps):
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("name,command,deps,outs", STAGES, ids=[s[0] for s in STAGES])
def test_deps_are_the_modules_the_stage_imports(name, command, deps, outs):
    module = command.split()[2]  # python -m stages.<stage> ...
    imported = transitive_files(module)
    missing = sorted(path for path in imported if not covered(path, deps))
    assert not missing, f"{name}: dvc.yaml deps miss modules it imports: {missing}"
    code_deps = [dep for dep in deps if dep.endswith(".py")]
    unused = sorted(dep for dep in code_deps if dep not in imported)
    assert not unused, f"{name}: dvc.yaml lists modules it does not import: {unused}"


def test_every_training_output_is_the_artifacts_path():
    for name, _, _, outs in STAGES:
        if name.startswith(("train@", "train_augmented@")):
            variant, seed = name.split("@")[1].rsplit("-", 1)
            expected = artifacts.seed_run(variant, int(seed))
        elif name.startswith("kfold@"):
            expected = artifacts.fold_run(int(name.split("@")[1]))
        elif name == artifacts.KFOLD_CARRIED:
            expected = artifacts.carried_run()
        else:
            continue
        assert sorted(outs) == sorted(expected.values()), name


def test_stages_hold_only_entry_points_named_as_in_dvc_yaml():
    """stages/ holds the pipeline's entry points and nothing else; the shared blocks live in study/."""
    commands = {command.split()[2].split(".")[1] for _, command, _, _ in STAGES}
    modules = {os.path.splitext(f)[0] for f in os.listdir(os.path.join(PROJECT, "stages"))
               if f.endswith(".py") and f != "__init__.py"}
    assert modules == commands


def test_no_stage_or_report_module_is_over_300_lines():
    for directory in ("stages", os.path.join("study", "report")):
        for file_name in os.listdir(os.path.join(PROJECT, directory)):
            if file_name.endswith(".py"):
                with open(os.path.join(PROJECT, directory, file_name)) as stream:
                    assert sum(1 for _ in stream) <= 300, f"{directory}/{file_name}"
