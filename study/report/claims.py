"""Every claim of the published study (reports/published.yaml `claims`) checked against our run.

A claim's kind names its test; the models, classes and measures come from the
YAML, so no variant name is written here. Claims that one model beats another
(on test, or in validation) form the family that Holm's correction runs over;
the others are descriptive (which class is worst, which curve ends higher) and
are reported as they come out, with the figures that decide them.

Verdicts: holds (significant, after Holm, where tested), holds in direction
only, does not hold, does not hold (the reverse is significant), no verdict
(one training run: its luck cannot be measured).
"""

import numpy as np

from study import artifacts
from study.dataset import CLASS_NAMES
from study.report.compare import adjust, compare
from study.report.render import mean_sd as _fmt
from study.statistics import paired_seed_t_test

TESTED_KINDS = ("better_on_test", "better_in_validation")


def _tested(claim, difference, comparison):
    comparison["claim"] = claim["key"]
    return {"comparison": comparison, "difference": difference}


def better_on_test(inputs, claim):
    comparison = compare(inputs, claim["better"], claim["worse"])
    detail = (f"{claim['better']} {_fmt(inputs.test_values(claim['better']))} vs {claim['worse']} "
              f"{_fmt(inputs.test_values(claim['worse']))} on test")
    return {**_tested(claim, comparison["difference"], comparison), "detail": detail}


def better_in_validation(inputs, claim):
    better, worse = (inputs.seed_values(claim[k], artifacts.VAL_ACCURACY) for k in ("better", "worse"))
    p_value = paired_seed_t_test(better, worse)
    comparison = {"a": claim["better"], "b": claim["worse"], "difference": float(better.mean() - worse.mean()),
                  "p_value": p_value, "measure": "validation accuracy (paired t-test over seeds)",
                  "single_run": len(better) < 2}
    detail = f"{claim['better']} {_fmt(better)} vs {claim['worse']} {_fmt(worse)} in validation"
    return {**_tested(claim, comparison["difference"], comparison), "detail": detail}


def _models(inputs, among):
    return list(inputs.published["table1"]) if among == "table1" else among


def extreme(inputs, claim):
    values = {n: float(inputs.seed_values(n, claim["measure"]).mean()) for n in _models(inputs, claim["among"])}
    found = (max if claim["highest"] else min)(values, key=values.get)
    return {"holds": found == claim["expected"],
            "detail": f"{claim['measure']}: " + ", ".join(f"{n} {v:.4f}" for n, v in values.items())}


def selected_pair(inputs, claim):
    return {"holds": set(inputs.selected[:2]) == set(claim["models"]),
            "detail": f"ours: {' and '.join(inputs.selected[:2])}"}


def _per_class(inputs, model, metric):
    per_class = inputs.evaluate["models"][model].get("per_class")
    if per_class is None:  # not among the selected: the evaluation kept no per-class figures
        return None
    return {c: per_class[c][metric] for c in CLASS_NAMES}


def class_extreme(inputs, claim):
    found, details = [], []
    for model in claim["models"]:
        values = _per_class(inputs, model, claim["metric"])
        if values is None:
            return {"holds": None, "detail": f"{model} is not among the selected models"}
        pick = (max if claim["highest"] else min)(values, key=values.get)
        found.append(pick)
        details.append(f"{model}: {pick} ({values[pick]:.2f})")
    return {"holds": all(f == claim["expected"] for f in found), "detail": "; ".join(details)}


def class_compare(inputs, claim):
    higher, lower = (_per_class(inputs, claim[k], claim["metric"]) for k in ("higher", "lower"))
    if higher is None or lower is None:
        return {"holds": None, "detail": "a model of the claim is not among the selected models"}
    name = claim["class"]
    return {"holds": higher[name] > lower[name],
            "detail": f"{claim['metric']} of {name}: {claim['higher']} {higher[name]:.3f}, {claim['lower']} {lower[name]:.3f}"}


def _last(inputs, model):
    return inputs.histories[model][-1]


def overfits(inputs, claim):
    last = _last(inputs, claim["model"])
    over = last["val_loss"] > last["loss"]
    return {"holds": over == claim["expected"],
            "detail": f"{claim['model']} at epoch {int(last['epoch'])}: validation loss {last['val_loss']:.4f}, "
                      f"training loss {last['loss']:.4f} (means over seeds)"}


def smaller_gap(inputs, claim):
    gaps = {k: _last(inputs, claim[k])["val_loss"] - _last(inputs, claim[k])["loss"] for k in ("smaller", "larger")}
    return {"holds": gaps["smaller"] < gaps["larger"],
            "detail": f"validation minus training loss at the last epoch: {claim['smaller']} {gaps['smaller']:+.4f}, "
                      f"{claim['larger']} {gaps['larger']:+.4f}"}


def higher_loss(inputs, claim):
    higher, lower = (_last(inputs, claim[k])["val_loss"] for k in ("higher", "lower"))
    return {"holds": higher > lower,
            "detail": f"validation loss at the last epoch: {claim['higher']} {higher:.4f}, {claim['lower']} {lower:.4f}"}


def test_below(inputs, claim):
    holds, details = True, []
    for model in claim["models"]:
        test = float(inputs.test_values(model).mean())
        train = float(inputs.seed_values(model, artifacts.RUNNING_TRAIN_ACCURACY).mean())
        val = float(inputs.seed_values(model, artifacts.VAL_ACCURACY).mean())
        holds &= test < train and test < val
        details.append(f"{model}: test {test:.4f}, training (running) {train:.4f}, validation {val:.4f}")
    return {"holds": holds, "detail": "; ".join(details)}


def kfold_val_above_train(inputs, claim):
    if claim["run"] == artifacts.KFOLD_CARRIED:
        train, val = inputs.carried[artifacts.RUNNING_TRAIN_ACCURACY], inputs.carried[artifacts.VAL_ACCURACY]
    else:
        train, val = inputs.kfold["train_accuracy_running_mean"], inputs.kfold["val_accuracy_mean"]
    return {"holds": val > train, "detail": f"validation {val:.4f}, training (running) {train:.4f}"}


def _confusion(inputs):
    from study.evaluation import confusion_matrix

    return confusion_matrix(inputs.labels, inputs.answers["kfold_best"][0])


def most_confused(inputs, claim):
    matrix = _confusion(inputs)
    wrong = matrix.sum(axis=1) - np.diag(matrix)
    worst = CLASS_NAMES[int(np.argmax(wrong))]
    return {"holds": worst == claim["expected"], "detail": f"most misclassified: {worst} ({int(wrong.max())} images)"}


def confusion_more(inputs, claim):
    matrix = _confusion(inputs)
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    first = int(matrix[index[claim["a"]], index[claim["b"]]])
    second = int(matrix[index[claim["c"]], index[claim["d"]]])
    return {"holds": first > second,
            "detail": f"{claim['a']} -> {claim['b']} {first}, {claim['c']} -> {claim['d']} {second}"}


CHECKS = {name: globals()[name] for name in (
    "better_on_test", "better_in_validation", "extreme", "selected_pair", "class_extreme", "class_compare",
    "overfits", "smaller_gap", "higher_loss", "test_below", "kfold_val_above_train", "most_confused",
    "confusion_more")}


def tested_verdict(result):
    comparison = result["comparison"]
    if comparison.get("single_run"):
        return "no verdict (one training run)" if comparison["difference"] > 0 else "does not hold (one training run)"
    if comparison["difference"] <= 0:
        return "does not hold" + (" (the reverse is significant)" if comparison["significant"] else "")
    return "holds" if comparison["significant"] else "holds in direction only"


def check_all(inputs):
    """[result] of every published claim, in the YAML's order; the tested ones Holm-adjusted together."""
    results = []
    for claim in inputs.published["claims"]:
        result = {"key": claim["key"], "text": claim["text"], "kind": claim["kind"], **CHECKS[claim["kind"]](inputs, claim)}
        if result.get("holds") is not None:
            result["holds"] = bool(result["holds"])
        results.append(result)
    adjust([r["comparison"] for r in results if "comparison" in r and not r["comparison"].get("single_run")])
    for result in results:
        if "comparison" in result:
            result["verdict"] = tested_verdict(result)
        else:
            result["verdict"] = {True: "holds", False: "does not hold", None: "not checked"}[result["holds"]]
    return results
