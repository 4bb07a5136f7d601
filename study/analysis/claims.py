"""Every claim of the published study (reports/published.yaml `claims`) checked against our run.

A claim's kind names its test; the models, classes and measures come from the
YAML, so no variant name is written here. Claims that one model beats another
(on test, or in validation) form the family that Holm's correction runs over;
the others are descriptive (which class is worst, which curve ends higher) and
are reported as they come out, with the figures that decide them.

Verdicts: holds (significant, after Holm, where tested), holds in direction
only, does not hold, does not hold (the reverse is significant), and with one
training run on one side (its luck cannot be measured) no verdict where it points
the claim's way, "does not hold (one training run)" where it does not. Per-class claims (one model's
precision, recall or F1 of a class against another's) are tested the same way,
by the paired t-test over seeds, as a family of their own.
"""

import numpy as np

from study.analysis.compare import adjust, compare
from study.analysis.evaluation import classification_report, confusion_matrix
from study.analysis.formats import mean_sd
from study.analysis.kfold import KFOLD_BEST
from study.analysis.statistics import mean_and_sd, paired_seed_difference, paired_seed_t_test
from study.data.facts import CLASS_NAMES
from study.training import runs


def _figures(values):
    """Figures over seeds as the claim's detail writes them: mean ± sample sd."""
    return mean_sd(*mean_and_sd(values))


def _tested(claim, difference, comparison):
    comparison["claim"] = claim.get("key")
    return {"comparison": comparison, "difference": difference}


def better_on_test(results, claim):
    comparison = compare(results, claim["better"], claim["worse"])
    detail = (
        f"{claim['better']} {_figures(results.test_values(claim['better']))} vs {claim['worse']} "
        f"{_figures(results.test_values(claim['worse']))} on test"
    )
    return {**_tested(claim, comparison["difference"], comparison), "detail": detail}


def better_in_validation(results, claim):
    better, worse = (results.seed_values(claim[k], runs.VAL_ACCURACY) for k in ("better", "worse"))
    p_value = paired_seed_t_test(better, worse)
    comparison = {
        "a": claim["better"],
        "b": claim["worse"],
        "difference": float(better.mean() - worse.mean()),
        "p_value": p_value,
        "measure": "validation accuracy (paired t-test over seeds)",
        "single_run": len(better) < 2,
    }
    detail = f"{claim['better']} {_figures(better)} vs {claim['worse']} {_figures(worse)} in validation"
    return {**_tested(claim, comparison["difference"], comparison), "detail": detail}


def _models(results, among):
    return list(results.published["table1"]) if among == "table1" else among


def extreme(results, claim):
    values = {
        n: float(results.seed_values(n, claim["measure"]).mean()) for n in _models(results, claim["among"])
    }
    found = (max if claim["highest"] else min)(values, key=values.get)
    return {
        "holds": found == claim["expected"],
        "detail": f"{claim['measure']}: " + ", ".join(f"{n} {v:.4f}" for n, v in values.items()),
    }


def selected_pair(results, claim):
    return {
        "holds": set(results.selected[:2]) == set(claim["models"]),
        "detail": f"ours: {' and '.join(results.selected[:2])}",
    }


def _per_class(results, model, metric):
    per_class = results.evaluate["models"][model].get("per_class")
    if per_class is None:  # not among the selected: the evaluation kept no per-class figures
        return None
    return {c: per_class[c][metric] for c in CLASS_NAMES}


def class_extreme(results, claim):
    found, details = [], []
    for model in claim["models"]:
        values = _per_class(results, model, claim["metric"])
        if values is None:
            return {"holds": None, "detail": f"{model} is not among the selected models"}
        pick = (max if claim["highest"] else min)(values, key=values.get)
        found.append(pick)
        details.append(f"{model}: {pick} ({values[pick]:.2f})")
    return {"holds": all(f == claim["expected"] for f in found), "detail": "; ".join(details)}


def _per_class_per_seed(results, model, class_name, metric):
    """One model's per-class `metric` of `class_name`, seed by seed, from its answers on the test set."""
    return np.array(
        [
            classification_report(results.labels, predicted)[1][class_name][metric]
            for predicted in results.answers[model]
        ]
    )


def class_compare(results, claim):
    """A per-class claim holds only where the paired t-test over seeds supports it (a family of its own)."""
    name, metric = claim["class"], claim["metric"]
    higher, lower = (_per_class_per_seed(results, claim[k], name, metric) for k in ("higher", "lower"))
    seed_level = paired_seed_difference(higher, lower)
    comparison = {
        "a": claim["higher"],
        "b": claim["lower"],
        **seed_level,
        "measure": f"{metric} of {name} (paired t-test over seeds)",
        "single_run": len(higher) < 2,
        "family": "per_class",
    }
    detail = (
        f"{metric} of {name}: {claim['higher']} {_figures(higher)}, {claim['lower']} {_figures(lower)}; "
        "per seed " + ", ".join(f"{d:+.4f}" for d in higher - lower)
    )
    return {**_tested(claim, comparison["difference"], comparison), "detail": detail}


def _last(results, model):
    return results.histories[model][-1]


def overfits(results, claim):
    last = _last(results, claim["model"])
    over = last["val_loss"] > last["loss"]
    return {
        "holds": over == claim["expected"],
        "detail": f"{claim['model']} at epoch {int(last['epoch'])}: validation loss "
        f"{last['val_loss']:.4f}, training loss {last['loss']:.4f} (means over seeds)",
    }


def smaller_gap(results, claim):
    gaps = {
        k: _last(results, claim[k])["val_loss"] - _last(results, claim[k])["loss"]
        for k in ("smaller", "larger")
    }
    return {
        "holds": gaps["smaller"] < gaps["larger"],
        "detail": f"validation minus training loss at the last epoch: {claim['smaller']} "
        f"{gaps['smaller']:+.4f}, {claim['larger']} {gaps['larger']:+.4f}",
    }


def higher_loss(results, claim):
    higher, lower = (_last(results, claim[k])["val_loss"] for k in ("higher", "lower"))
    return {
        "holds": higher > lower,
        "detail": f"validation loss at the last epoch: {claim['higher']} {higher:.4f}, "
        f"{claim['lower']} {lower:.4f}",
    }


def test_below(results, claim):
    holds, details = True, []
    for model in claim["models"]:
        test = float(results.test_values(model).mean())
        train = float(results.seed_values(model, runs.RUNNING_TRAIN_ACCURACY).mean())
        val = float(results.seed_values(model, runs.VAL_ACCURACY).mean())
        holds &= test < train and test < val
        details.append(f"{model}: test {test:.4f}, training (running) {train:.4f}, validation {val:.4f}")
    return {"holds": holds, "detail": "; ".join(details)}


def kfold_val_above_train(results, claim):
    if claim["run"] == runs.KFOLD_CARRIED:
        train, val = results.carried[runs.RUNNING_TRAIN_ACCURACY], results.carried[runs.VAL_ACCURACY]
    else:
        train, val = results.kfold["train_accuracy_running_mean"], results.kfold["val_accuracy_mean"]
    return {"holds": val > train, "detail": f"validation {val:.4f}, training (running) {train:.4f}"}


def _confusion(results):
    return confusion_matrix(results.labels, results.answers[KFOLD_BEST][0])


def most_confused(results, claim):
    matrix = _confusion(results)
    wrong = matrix.sum(axis=1) - np.diag(matrix)
    worst = CLASS_NAMES[int(np.argmax(wrong))]
    return {
        "holds": worst == claim["expected"],
        "detail": f"most misclassified: {worst} ({int(wrong.max())} images)",
    }


def confusion_more(results, claim):
    matrix = _confusion(results)
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    first = int(matrix[index[claim["a"]], index[claim["b"]]])
    second = int(matrix[index[claim["c"]], index[claim["d"]]])
    return {
        "holds": first > second,
        "detail": f"{claim['a']} -> {claim['b']} {first}, {claim['c']} -> {claim['d']} {second}",
    }


CHECKS = {
    name: globals()[name]
    for name in (
        "better_on_test",
        "better_in_validation",
        "extreme",
        "selected_pair",
        "class_extreme",
        "class_compare",
        "overfits",
        "smaller_gap",
        "higher_loss",
        "test_below",
        "kfold_val_above_train",
        "most_confused",
        "confusion_more",
    )
}


# The fields of each kind of claim that name a model (a variant, or one of the k-fold's).
MODEL_FIELDS = {
    "better_on_test": ("better", "worse"),
    "better_in_validation": ("better", "worse"),
    "extreme": ("among",),
    "class_extreme": ("models",),
    "class_compare": ("higher", "lower"),
    "overfits": ("model",),
    "smaller_gap": ("smaller", "larger"),
    "higher_loss": ("higher", "lower"),
    "test_below": ("models",),
}


def models_named(claim):
    """The models a claim reads the figures of (an `among: table1` claim reads Table 1's, checked with it)."""
    names = []
    for field in MODEL_FIELDS.get(claim["kind"], ()):
        value = claim[field]
        if value != "table1":
            names += value if isinstance(value, list) else [value]
    return names


def tested_verdict(result):
    comparison = result["comparison"]
    if comparison.get("single_run"):
        if comparison["difference"] > 0:
            return "no verdict (one training run)"
        return "does not hold (one training run)"
    if comparison["difference"] <= 0:
        return "does not hold" + (" (the reverse is significant)" if comparison["significant"] else "")
    return "holds" if comparison["significant"] else "holds in direction only"


def check_all(results):
    """[result] of every published claim, in the YAML's order; the tested ones Holm-adjusted together."""
    checked = []
    for claim in results.published["claims"]:
        result = {"key": claim["key"], "text": claim["text"], "kind": claim["kind"]}
        untrained = [name for name in models_named(claim) if name not in results.correct]
        if untrained:
            # A model of the recorded search only: the record's figures, no verdict of this run.
            recorded = results.search["variants"]
            result.update(
                holds=None,
                detail="; ".join(
                    f"{n} is not trained by the pipeline (reports/search.json: test "
                    f"{recorded[n]['test_accuracy']:.4f} over seeds {recorded[n]['seeds']}; "
                    f"`python scripts/search.py {n}` trains it)"
                    for n in untrained
                ),
            )
            checked.append(result)
            continue
        result.update(CHECKS[claim["kind"]](results, claim))
        if result.get("holds") is not None:
            result["holds"] = bool(result["holds"])
        checked.append(result)
    # Two families, each Holm-adjusted on its own: model against model, and per-class figures.
    tested = [r["comparison"] for r in checked if "comparison" in r and not r["comparison"].get("single_run")]
    for family in ("models", "per_class"):
        adjust([c for c in tested if c.get("family", "models") == family])
    for result in checked:
        if "comparison" in result:
            result["verdict"] = tested_verdict(result)
        else:
            result["verdict"] = {True: "holds", False: "does not hold", None: "not checked"}[result["holds"]]
    return checked
