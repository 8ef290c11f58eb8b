"""Equal-budget hyperparameter search (``ckg tune``) on Optuna, above the training layer.

:mod:`~ckgrec.model.tuning.config` holds the study's settings, :mod:`~ckgrec.model.tuning.space`
turns a model's declared ``search_space`` into Optuna suggestions, and
:mod:`~ckgrec.model.tuning.tune` runs the study: every trial a normal run directory, selection on
the validation split only, the test split evaluated once, on the best trial.
"""
