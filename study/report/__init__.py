"""The study report (stage report), in parts: what it reads, how it compares, the published claims, and the page.

    inputs    every figure the report needs, read once through study.artifacts
    compare   model against model at the level of training seeds; Holm's correction
    fidelity  each published headline number against ours, in sds
    claims    every published claim (reports/published.yaml) and its verdict
    beyond    the strongest model of the family at its cost; each augmentation against the same model without it
    render    the Markdown of reports/study.md
"""
