"""``ckg run``: one TOML config from raw data to a report, each stage skipped when its inputs are unchanged.

The stages hand off files, as the single commands do (store, ``STORE/pretrained``, run
directories), so a pipeline's output directory can be inspected and continued with the single
commands. What the pipeline adds is bookkeeping: ``OUT/pipeline.json`` records, per stage, a
hash of everything the stage read and what it wrote, so a rerun redoes exactly the stages whose
inputs changed and resumes an interrupted training run from its checkpoint.

Modules: :mod:`.config` (the typed config), :mod:`.fingerprints` (hashes of inputs),
:mod:`.state` (``pipeline.json``), :mod:`.resources` (time and memory per stage),
:mod:`.runner` (skip / resume / run decisions), :mod:`.stages` (one module per stage),
:mod:`.template` (the commented starting config of ``ckg init-config``).
"""
