"""Stage report: the study report, every published table, number and claim beside ours.

    python -m stages.report

Reads params.yaml (`evaluate`, `seeds`, `kfold`, the variant lists), the published
study's numbers and claims (reports/published.yaml), the protocol screen
(reports/protocol_screen.json, if there) and the files of the other stages: the
per-seed metrics and test-set predictions of every training, the summaries, the
evaluation and both k-folds (study/report/inputs.py lists them). Writes
  reports/study.md             the report
  metrics/headline.json        the few figures `dvc exp show` and `dvc metrics diff` compare
  metrics/details/study.json   every comparison, claim verdict and fidelity record
"""

from collections import Counter

from study import artifacts, files, params
from study.files import DataError
from study.report import beyond, claims, fidelity, render
from study.report.compare import compare
from study.report.inputs import Inputs, mirrored


def comparisons_with_baseline(inputs, results):
    """Every compared model against the baseline; a published claim's own comparison (Holm-adjusted) where one exists."""
    tested = {(r["comparison"]["a"], r["comparison"]["b"]): r["comparison"] for r in results
              if r["kind"] == "better_on_test"}
    rows = []
    for name in [*inputs.selected[1:2], *inputs.compared, artifacts.KFOLD_CARRIED, "kfold_best", "kfold_ensemble"]:
        if name == "baseline":
            continue
        rows.append(tested.get((name, "baseline")) or compare(inputs, name, "baseline"))
    return rows


def headline(inputs, counted):
    """metrics/headline.json: per variant the validation and test accuracy (mean; test sd), the k-folds, fidelity."""
    names = inputs.names
    return {
        "val": {n: float(inputs.seed_values(n, artifacts.VAL_ACCURACY).mean()) for n in names},
        "test": {n: float(inputs.test_values(n).mean()) for n in names},
        "test_sd": {n: float(inputs.test_values(n).std(ddof=1)) if len(inputs.seeds) > 1 else None for n in names},
        "kfold": {
            "val": inputs.kfold["val_accuracy_mean"],
            "test_best_fold": float(inputs.test_values("kfold_best")[0]),
            "test_ensemble": float(inputs.test_values("kfold_ensemble")[0]),
            "carried_val": inputs.carried[artifacts.VAL_ACCURACY],
            "carried_test": float(inputs.test_values(artifacts.KFOLD_CARRIED)[0]),
        },
        "test_mirror": {n: float(inputs.test_values(mirrored(n)).mean()) for n in inputs.mirrored},
        "fidelity": {"within_2sd": counted[0], "numbers": counted[1]},
    }


def effects_text(effects):
    """One-factor comparisons in a sentence: each variant's difference, Holm p and verdict."""
    return "; ".join(f"{c['a']} {render.interval_text(c)} (Holm p {render.p_text(c['p_holm'])}, "
                     f"{beyond.verdict(c)})" for c in effects) + "."


def findings(inputs, results, counted, records, effects, mirror_effects, factor_effects):
    best = max(inputs.names, key=lambda n: inputs.test_values(n).mean())
    strongest = beyond.strongest(inputs)
    verdicts = {}
    for r in results:
        verdicts.setdefault(r["verdict"].split(" (")[0], []).append(r["key"])
    honest = fidelity.count(records, table5="kfold")
    lines = [
        f"- **Fidelity: {counted[0]} of {counted[1]}** published headline numbers lie within 2 sd of ours "
        f"({honest[0]} of {honest[1]} with Table 5 from the honest k-fold instead of the carried-over one).",
        f"- Best model on test: **{best}**, {render.test_cell(inputs, best)}; the ensemble of its seeds "
        f"{render.number(inputs.evaluate['models'][best]['ensemble_test_accuracy'])}.",
        "- Published claims: " + "; ".join(f"{len(keys)} {verdict}" for verdict, keys in verdicts.items()) + ".",
        f"- Beyond the published study: the strongest model in validation is **{strongest}** "
        f"({beyond.cost(inputs, strongest)['params']:,} parameters), test {render.test_cell(inputs, strongest)}. "
        "Augmentation against the same model without it: " + effects_text(effects),
    ]
    for key, _, title, _ in beyond.FACTORS:
        if key in factor_effects:
            lines.append(f"- {title} against the same model without it: " + effects_text(factor_effects[key]))
    if mirror_effects:
        top = max(inputs.mirrored, key=lambda n: inputs.test_values(mirrored(n)).mean())
        counts = Counter(beyond.verdict(c) for c in mirror_effects)
        lines.append(
            f"- Test-time mirror, on {len(mirror_effects)} models (Holm): "
            + ", ".join(f"{verdict} {count}" for verdict, count in counts.items()) + ". "
            f"The best with it: **{top}**, test {render.test_cell(inputs, mirrored(top))} against "
            f"{render.test_cell(inputs, top)} without; the ensemble of its seeds with it "
            f"{render.number(inputs.mirror_ensemble[top])}.")
    return "\n".join(lines)


def main():
    try:
        inputs = Inputs(params.load())
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    results = claims.check_all(inputs)
    records = fidelity.headline_numbers(inputs)
    counted = fidelity.count(records)
    comparisons = comparisons_with_baseline(inputs, results)
    effects = beyond.augmentation_effects(inputs)
    mirror_effects = beyond.mirror_effects(inputs)
    factor_effects = beyond.factor_effects(inputs)
    family = sum(1 for r in results if "comparison" in r and r["comparison"].get("p_holm") is not None)
    chosen = f"batch {inputs.params['baseline']['batch_size']}, {inputs.params['baseline']['epochs']} epochs"
    report = "\n\n".join([
        "# Fashion-MNIST CNN study: results", render.intro(inputs, family),
        "## Findings", findings(inputs, results, counted, records, effects, mirror_effects, factor_effects),
        "## Protocol", render.protocol_section(inputs, chosen),
        "## Fidelity", render.fidelity_section(records, counted),
        "## Tables", render.table_1(inputs), render.table_2_and_4(inputs, comparisons), render.table_3(inputs),
        render.table_5(inputs), render.figure_3(inputs),
        "## Beyond the published study",
        render.beyond_section(inputs, effects, comparisons, mirror_effects, factor_effects),
        "## Every published claim", render.claims_section(results),
        "## Figures", render.figures(inputs),
    ]) + "\n"
    files.write_text(artifacts.REPORT, report)
    files.write_json(artifacts.HEADLINE, headline(inputs, counted))
    files.write_json(artifacts.study_details(), {"fidelity": records, "claims": results, "comparisons": comparisons,
                                                 "augmentation_effects": effects, "mirror_effects": mirror_effects,
                                                 **{f"{key}_effects": value for key, value in factor_effects.items()}})
    print(f"report: {artifacts.REPORT}; fidelity {counted[0]} of {counted[1]}; "
          f"{sum(r['verdict'] == 'holds' for r in results)} of {len(results)} published claims hold")


if __name__ == "__main__":
    main()
