"""The commented starting config ``ckg init-config`` writes.

Valid as written (a test loads it, and another uncomments every commented-out ``key = value``
line and loads that too), so a user edits a working file instead of assembling one from the
README. Only the data source differs between datasets; everything else is a sensible start for
a real experiment (three seeds, early stopping), not the demo's smoke settings.
"""

from __future__ import annotations

import os
from pathlib import Path

TEMPLATE = """\
# ckg run config -- written by `ckg init-config`{dataset_note}.
# Run it with:  ckg run {config_name}
# Every table below is optional except [data] and [[models]]. A misspelt key is an error that
# names the closest valid one. Relative paths are read from this file's directory. Commented-out
# lines show options with their default value.

# output directory: store, runs, comparison, report
out = "{out}"

[data]
# raw files to build: a directory in any layout 'ckg datasets' lists, or "embedded" (the bundled dataset)
source = "{source}"
# auto | native | movielens | recbole | mmgcn | kgat
format = "{format}"
# features = {{ text = "features/text.npy" }}   # extra modalities NAME = PATH, as 'ckg build --feature'
# store = "path/to/store"         # instead of source: use a store built before (skips the build)

[build]                          # as the [build] table of 'ckg build --config' (see README)
seed = 2020
# external_kg = true
# [build.split]
# method = "random"              # or "temporal"
# ratios = [0.8, 0.1, 0.1]
# k_core = 0
# cold_items = 0.0               # share of items held out with all their interactions

[pretrain]                       # TransR on both graphs, the start of dualkgat / kgat
# enabled = true                 # false: no pretraining stage
epochs = 100                     # at most; early stopping usually ends sooner
# embedding_dim = 64             # must equal the models' dim
# relation_dim = 64
# patience = 3
# threads = 1

[train]                          # trainer defaults of every model ('ckg train --help')
epochs = 300                     # at most; early stopping on the validation split
patience = 10                    # evaluations without a better valid_metric before stopping
valid_metric = "recall@20"
# eval_every = 1
# device = "auto"                # auto | cpu | cuda
# threads = 2
# lr = 0.001                     # default: each model's paper value

# Tune before the seeded runs ('ckg tune', on the validation split only): the same budget per model;
# each run then uses its study's best values under the options and train settings written here.
# [tune]
# trials = 30                    # finished trials per model
# timeout = 3600                 # seconds per model at most (default: no limit)
# seed = 2020
# models = ["bprmf", "lightgcn"] # labels to tune; default: every model with a search space left open

# One [[models]] table per method; 'ckg models' lists every model and its options.
# seeds: one run per seed; the comparison reports mean ± std over them.
[[models]]
name = "mostpop"                 # popularity: the floor every model must beat

[[models]]
name = "bprmf"
seeds = [1, 2, 3]

[[models]]
name = "lightgcn"
seeds = [1, 2, 3]

[[models]]
name = "dualkgat"                # the dual-graph knowledge-aware model
seeds = [1, 2, 3]
# train = {{ lr = 0.001 }}        # trainer options for this model only
# options = {{ layer_dims = [64, 32, 16] }}   # model options, as 'ckg train --set'

# An ablation is the same model with other options and its own label:
# [[models]]
# name = "dualkgat"
# label = "dualkgat-no-item-side"
# seeds = [1, 2, 3]
# options = {{ use_item_side = false }}

[evaluate]
ks = [5, 10, 20, 50]             # cut-offs of every metric (and of the metric-by-K plot)
metrics = ["recall@20", "ndcg@20", "precision@10", "hit@10"]   # comparison columns; the first is primary
test = "wilcoxon"                # paired test per user: wilcoxon | ttest
# reference = "bprmf"            # label to test against; default: the best baseline

[report]
title = "{title}"
examples = 3                     # users shown with explained recommendations
top_k = 3
# explain_model = "dualkgat"     # label; default: the first model that is not a baseline
# explain_users = ["u0001"]      # source user ids; default: the first `examples` users
"""


def config_text(dataset: str, config_path: Path) -> str:
    """The template for ``dataset``: ``"embedded"`` or a dataset directory (its format detected)."""
    from ckgrec.kgbuild.adapters import detect_format

    if dataset == "embedded":
        source, fmt, name = "embedded", "auto", "embedded"
    else:
        path = Path(dataset).resolve()
        fmt = detect_format(path)  # a clear error when the directory is missing or unrecognised
        here = config_path.resolve().parent
        source = os.path.relpath(path, here) if path.is_relative_to(here) else str(path)
        name = path.name
    return TEMPLATE.format(
        dataset_note=f" for {name}",
        config_name=str(config_path),
        out=f"runs/{name}",
        source=source,
        format=fmt,
        title=f"ckgrec: {name}",
    )
