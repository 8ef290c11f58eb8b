"""``ckg tune``: search a model's hyperparameters on the validation split (Optuna, resumable)."""

from __future__ import annotations

import argparse

from ckgrec.cli.options import NON_NEGATIVE, POSITIVE, SEED, float_range


def register(sub) -> None:
    p = sub.add_parser(
        "tune",
        help="tune a model's hyperparameters on the validation split (Optuna TPE, pruning, resumable)",
        description="Search the hyperparameters a model declares (its search space, shown by 'ckg models NAME') with "
        "Optuna's TPE sampler: every trial trains a normal run directory OUT/trials/<n> with early stopping on the "
        "validation split, reports its validation value after each evaluation, and is stopped early (pruned) when it is "
        "below the median of the earlier trials at that epoch. Trials are scored by their best validation value and never "
        "see the test split; at the end the best trial alone is evaluated on test. The study lives in OUT/study.db: the "
        "same command after an interruption continues it up to --trials finished trials in total. Writes OUT/best.toml "
        "([train] and [model], for 'ckg train --config') and OUT/summary.json (budget, trials, chosen values, test scores).",
    )
    p.add_argument("store", help="store directory written by 'ckg build' (needs validation pairs)")
    p.add_argument("--model", required=True, help="model name (see 'ckg models' for each search space)")
    p.add_argument(
        "--trials",
        required=True,
        type=POSITIVE,
        help="finished trials (complete, pruned or failed) the study runs in total, over all its sessions",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="study directory to write (or continue)")
    p.add_argument(
        "--timeout",
        type=float_range(0, low_open=True),
        metavar="S",
        help="start no new trial after S seconds of this session (a running trial finishes); default: no limit",
    )
    p.add_argument(
        "--seed", type=SEED, default=2020, help="seed of the TPE sampler and of every trial's training (default 2020)"
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML file with [train] and [model] tables every trial shares; a search-space parameter set there is fixed, not searched",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fix a model option for every trial (not searched), e.g. --set layers=2; repeatable",
    )
    p.add_argument("--epochs", type=POSITIVE, help="maximum epochs per trial (default: the model's, usually 300)")
    p.add_argument(
        "--patience", type=NON_NEGATIVE, help="early-stopping patience of each trial, in evaluations (default 10)"
    )
    p.add_argument("--eval-every", type=POSITIVE, help="evaluate (and report to the pruner) every N epochs (default 1)")
    p.add_argument(
        "--valid-metric", help="validation metric trials are selected and pruned on, NAME@K (default recall@20)"
    )
    p.add_argument(
        "--valid-users",
        type=NON_NEGATIVE,
        help="rank only this many (fixed, random) validation users per evaluation during training; 0 = all (default)",
    )
    p.add_argument(
        "--pruner",
        choices=["median", "none"],
        default="median",
        help="median: stop a trial below the median of earlier trials at the same epoch (default); none: never prune",
    )
    p.add_argument(
        "--prune-startup", type=NON_NEGATIVE, default=3, help="trials that finish before any is pruned (default 3)"
    )
    p.add_argument(
        "--prune-warmup", type=NON_NEGATIVE, default=5, help="epochs of each trial before it may be pruned (default 5)"
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        help="where to train: auto (CUDA if available, default), cpu or cuda",
    )
    p.add_argument("--threads", type=POSITIVE, help="CPU threads torch may use (default: torch's choice)")
    p.add_argument("--verbose", action="store_true", help="also print every trial's epoch lines")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors and the best trial's test scores")
    p.set_defaults(handler=run)


FLAG_TO_FIELD = {
    "epochs": "epochs",
    "patience": "patience",
    "eval_every": "eval_every",
    "valid_metric": "valid_metric",
    "valid_users": "valid_users",
    "device": "device",
    "threads": "threads",
}


def tables(args: argparse.Namespace) -> tuple[type, dict, dict]:
    """(model class, [train] table, [model] table) from --config, flags and --set; checked, not yet built."""

    from ckgrec.cli.train_cmd import config_tables
    from ckgrec.model.core.options import parse_assignments

    cls, train, model = config_tables(args, FLAG_TO_FIELD)
    return cls, train, {**model, **parse_assignments(cls.Config, args.set)}


def run(args: argparse.Namespace) -> int:
    from ckgrec.model.tuning.config import TuneConfig

    cls, train_table, model_table = tables(args)
    tc = TuneConfig(
        trials=args.trials,
        timeout=args.timeout,
        seed=args.seed,
        pruner=args.pruner,
        prune_startup=args.prune_startup,
        prune_warmup=args.prune_warmup,
    )

    from ckgrec.model.data.train_data import TrainData
    from ckgrec.model.tuning.tune import tune
    from ckgrec.schemas.store import Store

    data = TrainData.from_store(Store.open(args.store))
    say = lambda msg: print(msg, flush=True)
    log = None if args.quiet else say
    train_log = (lambda msg: print(f"    {msg}", flush=True)) if args.verbose and not args.quiet else None
    summary = tune(
        data,
        cls.name,
        args.out,
        tune_config=tc,
        train_table=train_table,
        model_table=model_table,
        log=log,
        train_log=train_log,
    )
    if args.quiet:
        test = summary["best"]["test"]
        print("  ".join(f"{k} {test[k]:.4f}" for k in sorted(test) if test[k] is not None))
    return 0
