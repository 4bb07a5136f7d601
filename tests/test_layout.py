"""The layout: every stage's dvc.yaml deps are exactly the project modules it imports, every path a
training stage writes in dvc.yaml is the one study/training/runs.py builds, the layers import
only downwards, and no module is over 300 lines.

A module a stage imports but dvc.yaml does not list is a silent staleness bug:
editing it would not rerun the stage. A listed module the stage does not import
reruns it for nothing.
"""

import ast
import os

import pytest

from study.training import runs

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
        return [
            (
                stage.addressing,
                stage.cmd,
                [os.path.relpath(dep.fs_path, PROJECT) for dep in stage.deps],
                [os.path.relpath(out.fs_path, PROJECT) for out in stage.outs],
            )
            for stage in repo.index.stages
        ]


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


def test_every_training_output_is_the_path_runs_builds():
    for name, _, _, outs in STAGES:
        if name.startswith(("train@", "train_augmented@")):
            variant, seed = name.split("@")[1].rsplit("-", 1)
            expected = runs.seed_run(variant, int(seed))
        elif name.startswith("kfold@"):
            expected = runs.fold_run(int(name.split("@")[1]))
        elif name == runs.KFOLD_CARRIED:
            expected = runs.carried_run()
        else:
            continue
        assert sorted(outs) == sorted(expected.values()), name


def test_stages_hold_only_entry_points_named_as_in_dvc_yaml():
    """stages/ holds the pipeline's entry points and nothing else; the shared blocks live in study/."""
    commands = {command.split()[2].split(".")[1] for _, command, _, _ in STAGES}
    modules = {
        os.path.splitext(f)[0]
        for f in os.listdir(os.path.join(PROJECT, "stages"))
        if f.endswith(".py") and f != "__init__.py"
    }
    assert modules == commands


TRAINING_STAGES = (
    "train@",
    "train_augmented@",
    "kfold@",
    "kfold_carried",
    "mirror@",
    "augment@",
    "prepare",
    "fetch",
)


def test_no_data_or_training_stage_depends_on_the_analysis_or_the_report():
    """An edit to the analysis, the report or a path only they use reruns no training."""
    for name, _, deps, _ in STAGES:
        if name.startswith(TRAINING_STAGES):
            upper = [d for d in deps if d.startswith(("study/analysis/", "study/report/"))]
            assert not upper, f"{name} depends on {upper}"


# Each layer of study/ and the modules it may import from the project; a layer never imports one above it.
LAYERS = {
    "study/errors.py": set(),
    "study/geometry.py": set(),
    "study/data/facts.py": set(),
    "study/config/": {"study/errors.py", "study/geometry.py", "study/data/facts.py", "study/config/"},
    "study/files.py": {"study/errors.py", "study/data/facts.py"},
    "study/data/": {"study/errors.py", "study/files.py", "study/data/", "study/config/", "study/geometry.py"},
    "study/training/": {
        "study/errors.py",
        "study/files.py",
        "study/data/",
        "study/config/",
        "study/training/",
        "study/geometry.py",
    },
}


def _layer(path):
    return next((layer for layer in sorted(LAYERS, key=len, reverse=True) if path.startswith(layer)), None)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_lower_layers_import_nothing_above_them(layer):
    files = [
        path
        for path in (
            os.path.relpath(os.path.join(root, f), PROJECT)
            for root, _, names in os.walk(os.path.join(PROJECT, "study"))
            for f in names
        )
        if path.endswith(".py") and _layer(path) == layer
    ]
    assert files, layer
    for path in files:
        for name in imported_modules(path):
            target = module_file(name)
            if target is None or target.endswith("__init__.py") and target.count("/") <= 1:
                continue
            allowed = LAYERS[layer]
            assert any(target.startswith(a) for a in allowed), f"{path} imports {target}, above its layer"


def test_stages_do_not_import_each_other():
    for file_name in os.listdir(os.path.join(PROJECT, "stages")):
        if file_name.endswith(".py") and file_name != "__init__.py":
            imported = imported_modules(os.path.join("stages", file_name))
            others = sorted(n for n in imported if n.startswith("stages.") and n != "stages")
            assert not others, f"stages/{file_name} imports {others}"


def test_no_module_is_over_300_lines():
    for directory in ("stages", "study", "benchmarks", "scripts"):
        for root, _, names in os.walk(os.path.join(PROJECT, directory)):
            for file_name in names:
                if file_name.endswith(".py"):
                    with open(os.path.join(root, file_name)) as stream:
                        lines = sum(1 for _ in stream)
                    assert lines <= 300, (
                        f"{os.path.relpath(os.path.join(root, file_name), PROJECT)}: {lines} lines"
                    )
