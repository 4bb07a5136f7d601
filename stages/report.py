"""Stage report: the study report, every published table, number and claim beside ours.

    python -m stages.report

Reads params.yaml (`evaluate`, `seeds`, `kfold`, the variant lists), the published
study's numbers and claims (reports/published.yaml), the protocol screen
(reports/protocol_screen.json, if there) and the files of the other stages: the
per-seed metrics and test-set predictions of every training, the summaries, the
evaluation and both k-folds (study/analysis/results.py lists them).
study/analysis/findings.py computes every figure, comparison and verdict;
study/report/ formats them. Writes
  reports/study.md             the report
  metrics/headline.json        the few figures `dvc exp show` and `dvc metrics diff` compare
  metrics/details/study.json   every comparison, claim verdict and fidelity record, and every
                               other figure the report prints (accuracies with their
                               intervals, costs, effects and their verdicts, Figure 3's counts)
"""

import stages
from study import config, errors, files
from study.analysis import artifacts, findings
from study.analysis.results import StudyResults
from study.report import render


def main():
    with errors.refused_in_one_line():
        results = StudyResults(config.load())

    details = findings.analyse(results)
    files.write_text(artifacts.REPORT, render.page(results, details))
    files.write_json(artifacts.HEADLINE, findings.headline(results, details))
    files.write_json(artifacts.study_details(), details)
    split = details["fidelity_split"]
    print(
        f"report: {artifacts.REPORT}; held out {split['held_out_within_2sd']} of {split['held_out_total']} "
        f"within 2 sd (tuned {split['tuned_within_2sd']} of {split['tuned_total']}); "
        f"{details['findings']['claims_holding']} of {len(details['claims'])} published claims hold"
    )


if __name__ == "__main__":
    stages.run(main)
