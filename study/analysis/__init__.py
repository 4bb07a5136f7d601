"""The study's analysis: every figure, comparison and verdict the report prints, computed here.

results      StudyResults: every file the analysis reads, read once; the models' answers on the test set
findings     analyse(results): everything metrics/details/study.json holds; the headline figures
accuracy     each model's accuracy on test (mean, sd, bootstrap and Wilson intervals) and in training
compare      model against model at the level of training seeds; Holm's correction
claims       every published claim (reports/published.yaml) and its verdict
fidelity     each published headline number against ours, in sds
effects      the one-factor families (augmentation, label smoothing, padding), the mirror,
             the strongest model
cost         FLOPs of a model from its spec; the images and TFLOP of each training
statistics   intervals and tests: Wilson, McNemar, bootstrap, paired t-test, Holm
formats      how a figure over seeds is written, for analysis and report alike
over_seeds   each variant's mean and sd over seeds (stage seed_summary)
evaluation   test-set measures, the selection of the published evaluation, figures (stage evaluate)
kfold        the k-fold's summary, its best fold and ensemble (stage kfold_summary and the report)
artifacts    the paths of what the summaries, the evaluation and the report write
"""
