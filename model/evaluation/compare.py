"""Models x metrics over seeds, with a paired per-user test against the best baseline.

Runs are grouped by their configuration without the seed (and device/threads/epochs cap): the
runs of one group are seeds of one method. A cell is the mean ± sample standard deviation over
the group's seeds of the run's test metric.

Significance: every run of a comparison must come from the same store (same fingerprint), so
the test users and their held-out items are identical across runs and each user yields one
paired observation. A user's value for a group is their metric averaged over the group's seeds;
the reference group is the best *baseline* group by the first metric (``--reference`` picks
another), and each other group is compared with it by the two-sided Wilcoxon signed-rank test
over users (:func:`scipy.stats.wilcoxon`; ``--test ttest`` uses the paired t-test
:func:`scipy.stats.ttest_rel`). Users whose values tie are dropped by Wilcoxon (``zero_method
= "wilcox"``); identical groups get p = 1.

User/item groups (warm, cold items, cold users, activity quartiles; :mod:`ckgrec.model.evaluation.groups`) get a
table each after the overall one (:mod:`ckgrec.model.evaluation.compare_groups`), where "n/a" marks a method that
cannot score the group.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ckgrec.model.core.run_dir import RunDir
from ckgrec.model.evaluation.compare_groups import (
    format_group_tables,
    group_tables,
    group_tables_json,
)
from ckgrec.model.evaluation.statistics import TESTS, format_p, paired_p
from ckgrec.schemas.errors import ConfigError, StoreMismatchError

GROUP_METRICS = ("recall@20", "ndcg@20")
_NOT_METHOD = ("seed", "device", "threads", "epochs")


@dataclass
class RunInfo:
    path: Path
    model: str
    seed: int
    fingerprint: str
    config: dict[str, Any]
    scores: dict[str, Any]
    is_baseline: bool


@dataclass
class Group:
    label: str
    model: str
    is_baseline: bool
    runs: list[RunInfo]
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    p_value: dict[str, float] = field(default_factory=dict)
    delta: dict[str, float] = field(default_factory=dict)  # relative difference to the reference


@dataclass
class Comparison:
    groups: list[Group]
    metrics: list[str]
    split: str
    reference: str
    test: str
    n_users: int
    group_tables: list = field(default_factory=list)  # model.compare_groups.GroupTable per user/item group
    group_metrics: list[str] = field(default_factory=list)


def _model_config_with_defaults(cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The run's model options, with every option it does not record set to the model's current
    default. A run trained before an option existed behaved as that option's default (options are
    added that way), so it is the same method as a newer run that records the default explicitly."""
    import dataclasses

    from ckgrec.model.models.registry import MODELS

    recorded = cfg.get("model_config")
    cls = MODELS.get(cfg.get("model"))
    if recorded is None or cls is None or not dataclasses.is_dataclass(getattr(cls, "Config", None)):
        return recorded
    filled = dict(recorded)
    for f in dataclasses.fields(cls.Config):
        if f.name not in filled and f.default is not dataclasses.MISSING:
            filled[f.name] = json.loads(json.dumps(f.default))  # tuples as lists, as config.json holds them
    return filled


def _method_key(cfg: dict[str, Any]) -> str:
    train = {k: v for k, v in cfg.get("train", {}).items() if k not in _NOT_METHOD}
    if train.get("negatives_from", "all") == "all":  # runs from before the option existed used "all"
        train.pop("negatives_from", None)
    return json.dumps(
        {"model": cfg.get("model"), "model_config": _model_config_with_defaults(cfg), "train": train}, sort_keys=True
    )


def load_runs(paths: list[str | Path]) -> list[RunInfo]:
    from ckgrec.model.models.registry import MODELS

    runs = []
    for p in paths:
        rd = RunDir(p).require()
        cfg = rd.read_config()
        scores = rd.read_scores()
        cls = MODELS.get(cfg["model"])
        runs.append(
            RunInfo(
                rd.path,
                cfg["model"],
                int(cfg["train"]["seed"]),
                cfg["store"]["fingerprint"],
                cfg,
                scores,
                bool(cls and cls.is_baseline),
            )
        )
    fps = {r.fingerprint for r in runs}
    if len(fps) > 1:
        by = {fp: [str(r.path) for r in runs if r.fingerprint == fp] for fp in fps}
        listing = "; ".join(f"{fp}: {', '.join(v[:3])}" for fp, v in by.items())
        raise StoreMismatchError(f"runs come from different store builds, so their users cannot be paired ({listing})")
    return runs


def _group(runs: list[RunInfo]) -> list[Group]:
    keyed: dict[str, list[RunInfo]] = {}
    for r in runs:
        keyed.setdefault(_method_key(r.config), []).append(r)
    groups = []
    per_model: dict[str, int] = {}
    for members in keyed.values():
        per_model[members[0].model] = per_model.get(members[0].model, 0) + 1
    counter: dict[str, int] = {}
    for members in keyed.values():
        m = members[0].model
        seeds = [r.seed for r in members]
        if len(set(seeds)) != len(seeds):
            dup = sorted({s for s in seeds if seeds.count(s) > 1})
            raise ConfigError(
                f"{m}: several runs with the same configuration and seed {dup} ({', '.join(str(r.path) for r in members)}); pass each run once"
            )
        label = m
        if per_model[m] > 1:
            counter[m] = counter.get(m, 0) + 1
            label = f"{m}#{counter[m]} ({members[0].path.name})"
        groups.append(Group(label, m, members[0].is_baseline, sorted(members, key=lambda r: r.seed)))
    return groups


def compare(
    paths: list[str | Path],
    metrics: list[str],
    split: str = "test",
    reference: str | None = None,
    test: str = "wilcoxon",
    group_metrics: list[str] | None = None,
) -> Comparison:
    """:param group_metrics: metrics of the per-group tables (default recall@20, ndcg@20); [] for none."""
    if test not in TESTS:
        raise ConfigError(f"--test {test}: use one of {', '.join(TESTS)}")
    if not metrics:
        raise ConfigError("no metrics to compare")
    runs = load_runs(paths)
    if not runs:
        raise ConfigError("no runs given")
    groups = _group(runs)
    for g in groups:
        for m in metrics:
            vals = []
            for r in g.runs:
                if m not in r.scores.get(split, {}):
                    raise ConfigError(
                        f"{r.path}: scores.json has no {split} metric '{m}' (it has {', '.join(r.scores.get(split, {}))})"
                    )
                vals.append(float(r.scores[split][m]))
            g.mean[m] = float(np.mean(vals))
            g.std[m] = float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan")
    primary = metrics[0]
    if reference is not None:
        ref = next((g for g in groups if g.label == reference or g.model == reference), None)
        if ref is None:
            raise ConfigError(f"--reference {reference}: not among the runs ({', '.join(g.label for g in groups)})")
    else:
        pool = [g for g in groups if g.is_baseline] or groups
        ref = max(pool, key=lambda g: g.mean[primary])
    per_user = {g.label: _per_user_means(g, split, metrics) for g in groups}
    users = per_user[ref.label].index
    for g in groups:
        if not per_user[g.label].index.equals(users):
            raise StoreMismatchError(
                f"{g.label}: its evaluated {split} users differ from {ref.label}'s; the runs cannot be paired"
            )
    for g in groups:
        for m in metrics:
            if g is ref:
                g.p_value[m] = float("nan")
                g.delta[m] = 0.0
                continue
            g.p_value[m] = paired_p(per_user[g.label][m].to_numpy(), per_user[ref.label][m].to_numpy(), test)
            base = ref.mean[m]
            g.delta[m] = (g.mean[m] - base) / base if base else float("nan")
    groups.sort(key=lambda g: -g.mean[primary])
    gm = list(GROUP_METRICS if group_metrics is None else group_metrics)
    tables = group_tables(groups, split, gm, ref.label, test) if gm else []
    return Comparison(groups, list(metrics), split, ref.label, test, int(len(users)), tables, gm)


def _per_user_means(g: Group, split: str, metrics: list[str]) -> pd.DataFrame:
    frames = []
    for r in g.runs:
        df = RunDir(r.path).read_per_user(split).set_index("user")
        missing = [m for m in metrics if m not in df.columns]
        if missing:
            raise ConfigError(f"{r.path}: per_user_{split}.parquet lacks {missing}")
        frames.append(df[metrics])
    return sum(frames[1:], frames[0]) / len(frames) if len(frames) > 1 else frames[0]


def _json_safe(x: Any) -> Any:
    """NaN (reference p-value, std of one seed) -> null, so the output is strict JSON."""
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_json_safe(v) for v in x]
    return x


def format_table(c: Comparison, fmt: str = "markdown") -> str:
    """A models x metrics table; ``fmt`` is ``markdown`` or ``json`` (NaN written as null)."""
    if fmt == "json":
        return json.dumps(
            _json_safe(
                {
                    "split": c.split,
                    "reference": c.reference,
                    "test": c.test,
                    "paired_users": c.n_users,
                    "protocol": "full",
                    "groups": [
                        {
                            "label": g.label,
                            "model": g.model,
                            "seeds": [r.seed for r in g.runs],
                            "runs": [str(r.path) for r in g.runs],
                            "mean": g.mean,
                            "std": g.std,
                            "p_value": g.p_value,
                            "relative_difference": g.delta,
                        }
                        for g in c.groups
                    ],
                    "group_tables": group_tables_json(c.group_tables),
                }
            ),
            indent=2,
            allow_nan=False,
        )
    if fmt != "markdown":
        raise ConfigError(f"--format {fmt}: use markdown or json")
    primary = c.metrics[0]
    head = ["model", "seeds", *c.metrics, f"Δ {primary}", f"p ({primary})"]
    rows = []
    for g in c.groups:
        cells = [g.label, str(len(g.runs))]
        for m in c.metrics:
            sd = g.std[m]
            cells.append(f"{g.mean[m]:.4f} ± {sd:.4f}" if not math.isnan(sd) else f"{g.mean[m]:.4f}")
        cells.append("—" if g.label == c.reference else f"{100 * g.delta[primary]:+.1f}%")
        cells.append(format_p(g.p_value[primary], is_reference=g.label == c.reference))
        rows.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]
    test_name = "Wilcoxon signed-rank" if c.test == "wilcoxon" else "paired t-test"
    out.append(
        f"\n{c.split} split, full ranking; mean ± std over seeds; p: two-sided {test_name} over {c.n_users:,} users "
        f"(per-user metric averaged over seeds) against {c.reference}"
    )
    others = [m for m in c.metrics[1:]]
    if others:
        sig = ", ".join(
            f"{g.label} {m} p={format_p(g.p_value[m])}" for g in c.groups if g.label != c.reference for m in others
        )
        out.append(f"other metrics vs {c.reference}: {sig}")
    if c.group_tables:
        out.append(format_group_tables(c.group_tables, c.group_metrics))
    return "\n".join(out)
