"""Default against tuned, from the studies ``bench_main_model.py --tune N`` left behind (no training here).

``ckg tune`` enqueues a model's defaults as trial 0, so every study already holds the validation value of
the defaults next to its best trial's. This script reads ``summary.json`` and ``study.db`` (Optuna's record
of what trial 0 was given) of every ``benchmarks/work/tune/<dataset>/<model>/`` and writes one row per study
to ``results/default-vs-tuned.md``: the budget spent (complete / pruned trials, wall seconds), validation
Recall@20 at the defaults and at the best trial (seed 2020, one run each), the gain, and the values the best
trial changed. A default outside the searched range is drawn in trial 0 instead; the row says so and reports
no gain. A default changed since the study ran is named under its table.

The studies live in the git-ignored ``benchmarks/work/``, which a fresh checkout does not have: a row of the
results file whose study is not on disk is kept as it was, with the date its study ran, so rerunning some
studies updates their rows without erasing the record of the others.

    python benchmarks/tuning_table.py
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import markdown_table, update_section  # noqa: E402
from ckgrec.model.models.registry import get_model  # noqa: E402
from ckgrec.model.training.config import TrainConfig  # noqa: E402
from ckgrec.model.tuning.tune import default_params  # noqa: E402

TUNE_DIR = ROOT / "benchmarks" / "work" / "tune"
DATASETS = ("embedded", "ml100k", "ml100k-20pct", "tiktok-sample")


def default_values(model: str) -> dict[str, object]:
    """The Optuna params ``ckg tune`` would enqueue as trial 0 today: the model's current defaults."""
    cls = get_model(model)
    return default_params(cls.search_space, TrainConfig().resolved(cls), cls.Config())


def _value(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _trials(study_dir: Path):
    """The study's trials by number (Optuna's record, categorical values by label), trial 0 and the parameters
    ``ckg tune`` enqueued for it (the model's defaults when the study ran; a default outside the searched range
    is missing there and was drawn)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{study_dir / 'study.db'}")
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    first = trials.get(0)
    return trials, first, (first.system_attrs.get("fixed_params", {}) if first is not None else {})


def study_row(study_dir: Path) -> tuple[list[str], str | None]:
    """The row of one study, and a note when the model's defaults have changed since it ran."""
    summary = json.loads((study_dir / "summary.json").read_text(encoding="utf-8"))
    trials, first, enqueued = _trials(study_dir)
    complete = first is not None and first.state.name == "COMPLETE"
    drawn = [k for k in (first.params if first is not None else {}) if k not in enqueued]
    if not complete:
        at_defaults = "—"
    elif drawn:
        at_defaults = f"{first.value:.4f} ({', '.join(drawn)} drawn)"
    else:
        at_defaults = f"{first.value:.4f}"
    best = summary["best"]
    gain = f"{100 * (best['valid'] / first.value - 1):+.1f}%" if complete and not drawn and first.value > 0 else "—"
    best_params = trials[best["trial"]].params
    changed = [f"{k} = {_value(v)}" for k, v in sorted(best_params.items()) if v != enqueued.get(k)]
    budget = summary["budget"]
    row = [
        summary["model"],
        f"{budget['complete']} / {budget['pruned']}",
        f"{budget['wall_seconds']:.0f}",
        at_defaults,
        f"{best['valid']:.4f} (trial {best['trial']})",
        gain,
        ", ".join(changed) or "the defaults",
    ]
    now = default_values(summary["model"])
    moved = [
        f"{k} = {_value(now[k]) if k in now else 'outside the searched range'}"
        for k in sorted(enqueued)
        if now.get(k) != enqueued[k]
    ]
    note = f"{summary['model']}: defaults changed since this study ran, now {', '.join(moved)}" if moved else None
    return row, note


HEADER = (
    "| model | study ran | trials complete / pruned | wall s | valid recall@20 at the defaults (trial 0) | valid "
    "recall@20 tuned (best trial) | gain | best trial's values that differ from the defaults |"
)


def study_date(study_dir: Path) -> str:
    """The UTC day the study last wrote its summary."""
    stamp = (study_dir / "summary.json").stat().st_mtime
    return _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc).strftime("%Y-%m-%d")


def recorded(text: str) -> dict[str, dict[str, tuple[list[str], str | None]]]:
    """dataset -> model -> (row cells, note) of the results file as this script last wrote it."""
    out: dict[str, dict[str, tuple[list[str], str | None]]] = {}
    for part in text.split("\n### ")[1:]:
        dataset, _, rest = part.partition("\n")
        rows = {cells[0]: (cells, None) for cells in markdown_table(rest, "| model |")[1]}
        for line in rest.splitlines():
            model = line[2:].split(":", 1)[0]
            if line.startswith("- ") and model in rows:
                rows[model] = (rows[model][0], line[2:])
        out[dataset.strip()] = rows
    return out


def table(tune_dir: Path = TUNE_DIR, before: str = "") -> str:
    """One table per dataset: a row per study on disk, and the rows of ``before`` (the results file as it was)
    whose studies are not on disk."""
    kept = recorded(before)
    blocks = []
    for dataset in DATASETS:
        rows: dict[str, tuple[list[str], str | None]] = dict(kept.get(dataset, {}))
        for d in sorted(p.parent for p in (tune_dir / dataset).glob("*/summary.json")):
            row, note = study_row(d)
            rows[row[0]] = ([row[0], study_date(d), *row[1:]], note)
        if not rows:
            continue
        ordered = [rows[m] for m in sorted(rows)]
        notes = [n for _, n in ordered if n]
        lines = [
            f"### {dataset}",
            "",
            HEADER,
            "|---|---|---|---|---|---|---|---|",
            *("| " + " | ".join(r) + " |" for r, _ in ordered),
            *([""] + [f"- {n}" for n in notes] if notes else []),
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    args = p.parse_args(argv)
    from benchmarks.results import section_path

    path = section_path("default-vs-tuned")
    body = table(before=path.read_text(encoding="utf-8") if path.is_file() else "")
    if not body:
        print(f"no studies under {TUNE_DIR}: run bench_main_model.py --tune N first", file=sys.stderr)
        return 1
    intro = (
        "Every study under `benchmarks/work/tune/<dataset>/<model>/`: those of `bench_main_model.py --tune 12` (the "
        "baselines), and any other `ckg tune STORE --model NAME --trials 12 --out benchmarks/work/tune/<dataset>/NAME` "
        "put there (dualkgat on ML-100K 20%). Optuna TPE, seed 2020, median pruning, trial 0 = the model's defaults, "
        "selection on the validation split (Recall@20, full ranking, one run per trial). The 3-seed test figures of "
        "the tuned configurations are in `main-model.md`. 'study ran': the day its study last wrote; a row whose "
        "study is no longer on disk is kept from an earlier run of this script."
    )
    print(body)
    if not args.no_write:
        update_section(
            "default-vs-tuned",
            "Defaults against tuned (validation)",
            "python benchmarks/tuning_table.py",
            intro + "\n\n" + body,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
