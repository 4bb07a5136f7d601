"""The `--variants` section of the benchmark: the study's steps, variant by variant, against
the arithmetic bound.

The study's trainings are grouped by what their steps cost; one variant of each
group is timed two at once (as scripts/repro_parallel.py trains), interleaved with
the others (benchmarks/rounds.py), and the study's trained images are summed over
those rates: the wall time of the study's steps alone, before start-up, validation
and checkpoints. `--what-if KEY=VALUE` times the groups matching `--where
KEY=VALUE` again with that key changed, and sums the study again with those rates.
"""

from benchmarks import rounds
from benchmarks.changes import holds, key_and_value
from benchmarks.machine import cpu_model
from study import config
from study.analysis.cost import study_trainings, training_flops

# Keys of a spec that change the numbers a step computes with, not its work: the
# learning rate and its schedule, the epochs, which pre-made training set (an
# augmented copy is read like the train split), and the seed. Variants differing
# only in these are timed once.
STEP_NEUTRAL_KEYS = ("learning_rate", "lr_schedule", "epochs", "augmentation", "seed")


def stage_variant(stage, study):
    """The variant a training stage of study_trainings trains: `train <variant> --seed N`, or the k-fold's."""
    return stage.split()[1] if stage.startswith("train ") else study.kfold.variant


def step_cost(spec):
    """What a step of `spec` costs, as a value equal for specs that differ only in STEP_NEUTRAL_KEYS."""
    return spec.replace(**{key: None for key in STEP_NEUTRAL_KEYS})


def step_groups(study, trainings=None):
    """{variant timed: [the study's training stages whose steps cost the same]}, in the order of params.yaml.

    `trainings`: study_trainings(study), when the caller has it already (it reads the data's sizes).
    """
    groups = {}
    for stage, (_, spec) in (trainings or study_trainings(study)).items():
        groups.setdefault(step_cost(spec), (stage_variant(stage, study), []))[1].append(stage)
    return dict(groups.values())


def section(data, scratch, repeats, gemm, what_if=None, where=None):
    """Each group's rate two at once, and the study's steps timed at those rates against the bound.

    `what_if` ("key=value"), for the groups whose spec has `where` ("key=value"): those groups
    are timed as well with the key changed, interleaved with the rest, and the study's steps are
    summed again with those rates.
    """
    study = config.load()
    trainings = study_trainings(study)
    groups = step_groups(study, trainings)
    spec_of = {name: trainings[stages[0]][1] for name, stages in groups.items()}
    flops_of = {name: training_flops(spec) for name, spec in spec_of.items()}
    images_of = {name: sum(trainings[stage][0] for stage in stages) for name, stages in groups.items()}
    condition = key_and_value(where) if where else None
    changed = (
        []
        if what_if is None
        else [name for name in groups if condition is None or holds(spec_of[name], *condition)]
    )
    setups = {f"variant:{name}{rounds.TWO_AT_ONCE}": name for name in groups}
    setups.update({f"variant:{name}@{what_if}{rounds.TWO_AT_ONCE}": name for name in changed})
    measured = rounds.interleaved(
        list(setups), data, scratch, repeats, {setup: flops_of[name] for setup, name in setups.items()}, gemm
    )
    timed = {
        "cpu": cpu_model(),
        "gemm_fp32_gflops": gemm,
        "repeats": repeats,
        "what_if": what_if,
        "where": where,
        "groups": {},
    }
    for setup, name in setups.items():
        images, flops = images_of[name], flops_of[name]
        figures = {
            **measured[setup],
            "mflop_per_image": flops / 1e6,
            "trainings": groups[name],
            "images": images,
            "steps_s": images / measured[setup]["images_per_s"],
            "bound_s": images * flops / (gemm * 1e9),
        }
        if "@" in setup:
            timed["groups"][name]["what_if"] = figures
        else:
            timed["groups"][name] = figures
    timed["steps_s"] = sum(group["steps_s"] for group in timed["groups"].values())
    timed["bound_s"] = sum(group["bound_s"] for group in timed["groups"].values())
    timed["steps_vs_bound"] = timed["steps_s"] / timed["bound_s"]
    if what_if is not None:
        timed["what_if_steps_s"] = sum(
            group.get("what_if", group)["steps_s"] for group in timed["groups"].values()
        )
        timed["what_if_steps_vs_bound"] = timed["what_if_steps_s"] / timed["bound_s"]
    return timed


def print_section(timed):
    """The `--variants` section as a table, one row per group (and one per group's what-if)."""
    print(
        f"\nCPU: {timed['cpu']}; fp32 GEMM {timed['gemm_fp32_gflops']:.0f} GFLOP/s; the study's trainings "
        f"by what their steps cost, two at once, median of {timed['repeats']} interleaved round(s):"
    )
    print(
        f"{'variant timed':44} {'batch':>5} {'MFLOP':>6} {'img/s':>7} {'GEMM %':>7} {'trainings':>9} "
        f"{'steps min':>9} {'bound min':>9}"
    )
    for name, group in timed["groups"].items():
        for label, figures in ((name, group), (f"  with {timed['what_if']}", group.get("what_if"))):
            if figures:
                print(
                    f"{label:44} {figures['batch_size']:5} {figures['mflop_per_image']:6.1f} "
                    f"{figures['images_per_s']:7.0f} {figures['gemm_fraction'] * 100:6.0f}% "
                    f"{len(figures['trainings']):9} {figures['steps_s'] / 60:9.1f} "
                    f"{figures['bound_s'] / 60:9.1f}"
                )
    print(
        f"the study's steps at these rates: {timed['steps_s'] / 60:.1f} min, "
        f"{timed['steps_vs_bound']:.2f}x its arithmetic bound of {timed['bound_s'] / 60:.1f} min "
        "(before start-up, validation, checkpoints)"
    )
    if timed["what_if"]:
        print(
            f"with {timed['what_if']} where {timed['where'] or 'every group'}: "
            f"{timed['what_if_steps_s'] / 60:.1f} min, {timed['what_if_steps_vs_bound']:.2f}x the bound"
        )
