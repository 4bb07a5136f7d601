"""The study report (stage report), formatted from what study/analysis computed: no statistics here.

render             the Markdown of reports/study.md: the page; its introduction, findings,
                   protocol, fidelity, claims and figures
tables             the published study's Tables 1 to 5 and Figure 3's counts, ours beside them
beyond_published   the section Beyond the published study: the strongest model, costs, effects
text               how a value is written: tables, numbers, figures over seeds, p-values,
                   intervals, spec values
"""
