"""How a figure over seeds is written: one format for the words analysis records (a claim's
detail in study.json) and for the report's tables, so that the two always read alike."""


def mean_sd(mean, sd):
    """`0.9123 ± 0.0012`, or `0.9123` where there is no sd (a single seed or run)."""
    return f"{mean:.4f}" if sd is None else f"{mean:.4f} ± {sd:.4f}"
