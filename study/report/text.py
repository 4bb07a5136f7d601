"""How the report writes a value: a Markdown table, a number, a figure over seeds, a p-value,
an interval, a spec value. Formatting only: every value arrives computed (study/analysis)."""

import yaml

from study.analysis import formats


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def number(value, digits=4):
    return "—" if value is None else f"{value:.{digits}f}"


def mean_sd(figure):
    """A figure over seeds, {mean, sd}: `0.9123 ± 0.0012`, or the mean alone where there is no sd."""
    return formats.mean_sd(figure["mean"], figure["sd"])


def p_text(p_value):
    if p_value is None:
        return "—"
    return f"{p_value:.3g}" if p_value >= 0.001 else "< 0.001"


def interval_text(comparison):
    if comparison.get("single_run"):
        return f"{comparison['difference']:+.4f} (one run)"
    if comparison.get("low") is None:
        return f"{comparison['difference']:+.4f} (no spread over seeds)"
    return f"{comparison['difference']:+.4f} [{comparison['low']:+.4f}, {comparison['high']:+.4f}]"


def test_cell(accuracy):
    """A model's test accuracy (a record of study.json `test_accuracy`): mean ± sd over seeds, with the
    interval over test images of the seed mean."""
    return f"{mean_sd(accuracy)} [{accuracy['low']:.4f}, {accuracy['high']:.4f}]"


def yaml_text(value):
    """A value as params.yaml would write it inline: null, true, [64, 128],
    {warmup_epochs: 1, decay: cosine}."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1000)
    return text.strip().removesuffix("\n...")
