"""``ckg train``: train one model on a store into a run directory (resumes an interrupted run)."""

from __future__ import annotations

import argparse

from ckgrec.cli.options import NON_NEGATIVE, POSITIVE, SEED, float_range


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a recommender on a store (resumes an interrupted run)",
        description="Train one model on the training split of STORE, select the best epoch on the validation split "
        "(early stopping), evaluate it once on the test split by full ranking, and write the run directory RUN "
        "(config.json, metrics.jsonl, scores.json, per-user test metrics, best.pt). Running the same command on a RUN "
        "that holds a checkpoint resumes it. Options left out take the model's paper defaults (see 'ckg models').",
    )
    p.add_argument("store", help="store directory written by 'ckg build'")
    p.add_argument("--model", required=True, help="model name (see 'ckg models')")
    p.add_argument("--out", required=True, metavar="RUN", help="run directory to write (or resume)")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML file with a [train] table (trainer options) and a [model] table (model options)",
    )
    p.add_argument("--seed", type=SEED, help="seed of initialisation, sampling and dropout (default 2020)")
    p.add_argument("--epochs", type=POSITIVE, help="maximum number of epochs (default: the model's, usually 300)")
    p.add_argument("--batch-size", type=POSITIVE, help="BPR triples per batch (default: the model's paper value)")
    p.add_argument("--lr", type=float_range(0, low_open=True), help="learning rate (default: the model's paper value)")
    p.add_argument("--optimizer", choices=["adam", "sgd", "adagrad"], help="optimiser (default adam)")
    p.add_argument(
        "--l2", type=float_range(0), help="L2 coefficient of the model's regulariser (default: the model's paper value)"
    )
    p.add_argument(
        "--negatives", type=POSITIVE, help="sampled negatives per positive (default: the model's, usually 1)"
    )
    p.add_argument(
        "--negatives-from",
        choices=["all", "trained"],
        help="draw negatives among all items (default) or only items with a training pair (item cold start: otherwise new items are only ever negatives)",
    )
    p.add_argument(
        "--patience",
        type=NON_NEGATIVE,
        help="stop after this many evaluations without a better validation metric (0 = never; default 10)",
    )
    p.add_argument("--eval-every", type=POSITIVE, help="evaluate on the validation split every N epochs (default 1)")
    p.add_argument("--valid-metric", help="validation metric for early stopping, NAME@K (default recall@20)")
    p.add_argument("--ks", help="comma-separated cut-offs K of the reported metrics (default 10,20)")
    p.add_argument(
        "--valid-users",
        type=NON_NEGATIVE,
        help="rank only this many (fixed, random) validation users during training; 0 = all (default)",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        help="where to train: auto (CUDA if available, default), cpu or cuda",
    )
    p.add_argument("--threads", type=POSITIVE, help="CPU threads torch may use (default: torch's choice)")
    p.add_argument(
        "--nproc",
        type=POSITIVE,
        help="data-parallel training in N local processes (gloo on the CPU, NCCL with one GPU each; default 1, "
        "or [train] nproc of --config); under torchrun leave it out: the launcher's WORLD_SIZE is used",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a model option, typed by the model's config, e.g. --set layers=2; repeatable",
    )
    p.add_argument("--force", action="store_true", help="discard what RUN holds and train from scratch")
    p.add_argument(
        "--reselect",
        action="store_true",
        help="train nothing: on the finished RUN (same options), choose again what the model chooses on validation "
        "after training (dualkgat's knowledge filter) with this version's grid, and evaluate again; training never "
        "reads that choice, so this gives what retraining would",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors and the final scores")
    p.set_defaults(handler=run)


FLAG_TO_FIELD = {
    "seed": "seed",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "optimizer": "optimizer",
    "l2": "l2",
    "negatives": "num_negatives",
    "negatives_from": "negatives_from",
    "patience": "patience",
    "eval_every": "eval_every",
    "valid_metric": "valid_metric",
    "valid_users": "valid_users",
    "device": "device",
    "threads": "threads",
}


def config_tables(args: argparse.Namespace, flag_to_field: dict[str, str]):
    """(model class, [train] table with the flags on top, [model] table) of ``--config FILE`` and the
    trainer flags; shared by ``ckg train`` and ``ckg tune``. Only [train] and [model] may appear."""
    from pathlib import Path

    from ckgrec.model.models.registry import get_model
    from ckgrec.schemas.config_io import read_toml
    from ckgrec.schemas.errors import ConfigError

    cls = get_model(args.model)
    data: dict = {}
    if args.config:
        p = Path(args.config)
        data = read_toml(p)
        unknown = set(data) - {"train", "model"}
        if unknown:
            raise ConfigError(f"{p}: unknown table(s) {sorted(unknown)}; use [train] and [model]")
    train = dict(data.get("train", {}))
    for flag, field in flag_to_field.items():
        value = getattr(args, flag)
        if value is not None:
            train[field] = value
    return cls, train, dict(data.get("model", {}))


def load_configs(args: argparse.Namespace):
    """(model class, model config, train config) from --config FILE, flags and --set."""
    return load_configs_nproc(args)[:3]


def load_configs_nproc(args: argparse.Namespace):
    """:func:`load_configs` and the number of processes: ``--nproc``, else ``[train] nproc``, else 1
    (not a trainer option: a run's result does not depend on it beyond floating-point order)."""

    from ckgrec.model.core.options import build_config, coerce
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.schemas.config_io import from_mapping
    from ckgrec.schemas.errors import ConfigError

    cls, train, model_table = config_tables(args, FLAG_TO_FIELD)
    nproc = train.pop("nproc", 1)
    if getattr(args, "nproc", None) is not None:
        nproc = args.nproc
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ConfigError(f"{args.config or 'options'} [train] nproc = {nproc!r}: must be an integer >= 1")
    if args.ks is not None:
        train["ks"] = coerce(args.ks, tuple[int, ...], "--ks")
    tc = from_mapping(TrainConfig, train, f"{args.config or 'options'} [train]")
    mc = build_config(cls.Config, model_table, args.set, where=f"{args.config or 'options'} [model] ({cls.name})")
    return cls, mc, tc, nproc


def run(args: argparse.Namespace) -> int:
    import sys

    cls, mc, tc, nproc = load_configs_nproc(args)

    import torch  # noqa: F401  (heavy: only once the options are known to be valid)

    from ckgrec.api import train_configured
    from ckgrec.model.training.distributed import is_follower_process

    follower = is_follower_process()  # a rank > 0 under torchrun: rank 0 prints
    log = None if args.quiet or follower else (lambda msg: print(msg, flush=True))
    progress = not args.quiet and not follower and sys.stderr.isatty()
    run = train_configured(
        args.store,
        cls.name,
        mc,
        tc,
        out=args.out,
        force=args.force,
        progress=progress,
        log=log,
        nproc=nproc,
        reselect=args.reselect,
    )
    if run.complete and args.quiet and not follower:
        test = run.scores["test"]
        print("  ".join(f"{k} {test[k]:.4f}" for k in sorted(test)))
    return 0
