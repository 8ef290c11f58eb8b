"""Tune stage (``[tune]``): one ``ckg tune`` study per model to tune, in ``OUT/tune/<label>/``.

Each study is :func:`ckgrec.model.tuning.tune.tune` with the ``[tune]`` budget (the same for every
model), the model's trainer settings (``[train]`` + its own ``train`` table) and its explicit
``options`` held fixed, so only what the config leaves open is searched. Selection is on the
validation split only, and the study does not read the test split at all (``evaluate_test=False``):
the seeded runs of the train stage are the test measurements.

Skip / resume: the step's inputs are the study's settings plus ``trials`` and ``timeout``. When only
the budget changed, or the run was interrupted, the study in ``OUT/tune/<label>/study.db`` is
continued; any other change (model, fixed values, store, seed, pruner, search space) starts it afresh.

After its steps, this stage replaces each tuned model of ``ctx.cfg`` by one with the best trial's
values merged *under* the entry's explicit options and trainer settings, so the train stage (and
everything after it) trains, fingerprints and reports the tuned configuration.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any, Iterator

from ckgrec.pipeline.config import ModelRun, PipelineConfig
from ckgrec.pipeline.fingerprints import digest, file_digest
from ckgrec.pipeline.runner import Context, Step
from ckgrec.pipeline.stages.build import content_digest

NAME = "tune"
DIRECTORY = "tune"
_PLACE = ("device", "threads")  # where a trial runs, not what it computes


def step_name(label: str) -> str:
    return f"{NAME}:{label}"


def study_dir(out: Path, label: str) -> Path:
    return out / DIRECTORY / label


def tables(cfg: PipelineConfig, m: ModelRun, device: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trainer table, model table) every trial of ``m``'s study shares: the config's explicit values."""
    train = {k: v for k, v in m.given_train.items() if k != "seed"}  # the study seeds its trials itself
    train["ks"] = list(cfg.evaluate.ks)
    if device is not None:
        train["device"] = device
    return train, dict(m.given_options)


def _step(ctx: Context, m: ModelRun, pretrained: dict[str, str | None]) -> Step:
    from ckgrec.model.models.registry import get_model
    from ckgrec.model.tuning.tune import BEST_TOML, STUDY_DB, SUMMARY

    cfg = ctx.cfg
    ts = cfg.tune
    d = study_dir(cfg.out, m.label)
    train_table, model_table = tables(cfg, m, ctx.device)
    space = getattr(get_model(m.name), "search_space", {})
    study = {
        "model": m.name,
        "train": {k: v for k, v in train_table.items() if k not in _PLACE},
        "model_options": model_table,
        "space": {k: f"{p.table}: {p.describe()}" for k, p in space.items()},
        "seed": ts.seed,
        "pruner": ts.pruner,
        "prune_startup": ts.prune_startup,
        "prune_warmup": ts.prune_warmup,
        "fingerprint": ctx.store().fingerprint,
        "store": content_digest(ctx.store()),
        "pretrained": pretrained if m.uses_pretrained else None,
    }
    key = digest(study)
    name = step_name(m.label)
    old = ctx.state.get(name)  # read before the runner records this execution

    def run(_resume: bool) -> dict:
        from ckgrec.model.tuning.tune import tune

        keep = not ctx.force and old is not None and old.resume_key == key and (d / STUDY_DB).is_file()
        if not keep and d.exists():
            shutil.rmtree(d)  # another study's settings: start afresh (the runner owns OUT)
        if keep:
            ctx.log(f"  continuing the study in {d}")
        summary = tune(
            ctx.data(),
            m.name,
            d,
            tune_config=ts.tune_config(),
            train_table=train_table,
            model_table=model_table,
            log=lambda msg: ctx.log(f"  {msg}"),
            evaluate_test=False,
        )
        best = summary["best"]
        return {
            "dir": str(d),
            "summary_sha256": file_digest(d / SUMMARY),
            "best_toml_sha256": file_digest(d / BEST_TOML),
            "best": {"trial": best["trial"], "valid": best["valid"], "train": best["train"], "model": best["model"]},
            "budget": summary["budget"],
        }

    def intact(outputs: dict) -> bool:
        return (
            file_digest(d / SUMMARY) == outputs.get("summary_sha256")
            and outputs.get("summary_sha256") is not None
            and file_digest(d / BEST_TOML) == outputs.get("best_toml_sha256")
        )

    budget = f"{ts.trials} trials" + (f", {ts.timeout:g}s at most" if ts.timeout is not None else "")
    return Step(
        name=name,
        stage=NAME,
        title=f"tune {m.label} ({budget})",
        inputs={**study, "trials": ts.trials, "timeout": ts.timeout},
        resume_inputs=study,
        run=run,
        intact=intact,
        can_resume=lambda: (d / STUDY_DB).is_file(),
    )


def tuned(cfg: PipelineConfig, best_of: dict[str, dict[str, Any]]) -> PipelineConfig:
    """``cfg`` with each tuned model's best values (``best_of[label]`` = {"train": ..., "model": ...})
    merged under its explicit options and trainer settings, which stay as written."""
    from ckgrec.model.models.registry import get_model
    from ckgrec.schemas.config_io import from_mapping

    models = []
    for m in cfg.models:
        best = best_of.get(m.label)
        if best is None:
            models.append(m)
            continue
        cls = get_model(m.name)
        options = from_mapping(cls.Config, {**best.get("model", {}), **m.given_options}, f"tuned options of {m.label}")
        train_values = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in best.get("train", {}).items()
            if k not in m.given_train
        }
        models.append(dataclasses.replace(m, options=options, train=dataclasses.replace(m.train, **train_values)))
    return dataclasses.replace(cfg, models=tuple(models))


def best_values(cfg: PipelineConfig, outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Label -> the best trial's values, from this invocation's step outputs (or, failing that, summary.json)."""
    from ckgrec.model.tuning.tune import SUMMARY
    from ckgrec.pipeline.files import read_json

    out = {}
    for label in cfg.tune.models if cfg.tune is not None else ():
        o = outputs.get(step_name(label))
        if o is not None:
            out[label] = o["best"]
        elif (study_dir(cfg.out, label) / SUMMARY).is_file():
            out[label] = read_json(study_dir(cfg.out, label) / SUMMARY)["best"]
    return out


def steps(ctx: Context) -> Iterator[Step]:
    from ckgrec.pipeline.stages.train import _pretrained_digests

    cfg = ctx.cfg
    if cfg.tune is None:
        return
    pretrained = _pretrained_digests(cfg.store_path)
    for label in cfg.tune.models:
        yield _step(ctx, cfg.model(label), pretrained)
    # every study is done (or kept): the later stages see the tuned models
    ctx.cfg = tuned(cfg, best_values(cfg, ctx.outputs))
