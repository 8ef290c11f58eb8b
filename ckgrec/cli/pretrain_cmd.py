"""``ckg pretrain``: TransR pretraining on a store's collaborative KGs (through PyKEEN)."""

from __future__ import annotations

import argparse
import dataclasses

from ckgrec.cli.options import NON_NEGATIVE, POSITIVE, SEED, float_range

GRAPH_NAMES = ("user_side", "item_side")  # schemas.tables.GRAPHS, repeated to keep --help import-free


def register(sub) -> None:
    from ckgrec.model.pretraining.config import (
        PretrainConfig,  # plain dataclass: no torch, --help stays instant
    )

    D = PretrainConfig()
    p = sub.add_parser(
        "pretrain",
        help="pretrain TransR embeddings on the store's KGs (initialises the recommender)",
        description="Train PyKEEN's TransR on the user-side and item-side KGs of STORE, straight from the "
        "store's integer ids, with g(h,r,t) = ||e_h W_r + e_r - e_t W_r||^2 and the loss "
        "-ln sigmoid(g(h,r,t') - g(h,r,t)) against corrupted tails. A small share of triples is held out: "
        "half for early stopping, half for the reported filtered link-prediction metrics (MRR, Hits@1/10). "
        "Writes STORE/pretrained/<graph>.safetensors (entity [N,d], relation [2R,k], projection [2R,d,k]; "
        "inverse relations r+R get -e_r and W_r) and <graph>.json (fingerprint, config, metrics). "
        "Options override the [pretrain] table of --config.",
    )
    p.add_argument("store", help="store directory written by 'ckg build'")
    p.add_argument(
        "--config", metavar="TOML", help="TOML file whose [pretrain] table sets any option below (flags win)"
    )
    p.add_argument(
        "--graphs",
        default=",".join(GRAPH_NAMES),
        metavar="G[,G]",
        help=f"comma-separated graphs to pretrain (default: {','.join(GRAPH_NAMES)})",
    )
    g = p.add_argument_group("model")
    g.add_argument(
        "--dim",
        dest="embedding_dim",
        type=POSITIVE,
        metavar="D",
        help=f"entity embedding dimension d (default {D.embedding_dim})",
    )
    g.add_argument(
        "--relation-dim",
        dest="relation_dim",
        type=POSITIVE,
        metavar="K",
        help=f"relation space dimension k (default {D.relation_dim})",
    )
    t = p.add_argument_group("training")
    t.add_argument(
        "--epochs",
        type=POSITIVE,
        metavar="N",
        help=f"maximum TransR epochs (default {D.epochs}; early stopping usually ends sooner)",
    )
    t.add_argument(
        "--batch-size",
        dest="batch_size",
        type=POSITIVE,
        metavar="B",
        help=f"positive triples per batch (default {D.batch_size})",
    )
    t.add_argument(
        "--lr",
        dest="learning_rate",
        type=float_range(0, low_open=True),
        metavar="LR",
        help=f"Adam learning rate (default {D.learning_rate})",
    )
    t.add_argument(
        "--negatives", type=POSITIVE, metavar="N", help=f"corrupted triples per positive (default {D.negatives})"
    )
    t.add_argument(
        "--corruption",
        choices=["tail", "both"],
        help=f"corrupt tails only (as in the recommender's KG loss) or both sides (default {D.corruption})",
    )
    t.add_argument(
        "--warm-start",
        dest="warm_start",
        choices=["transe", "none"],
        help=f"'transe': start from TransE embeddings and identity projections; 'none': random init (default {D.warm_start})",
    )
    t.add_argument(
        "--warm-start-epochs",
        dest="warm_start_epochs",
        type=NON_NEGATIVE,
        metavar="N",
        help=f"TransE epochs for the warm start (default {D.warm_start_epochs})",
    )
    t.add_argument(
        "--seed",
        type=SEED,
        help=f"random seed for the held-out split and training (default {D.seed}); CPU runs are deterministic",
    )
    e = p.add_argument_group("evaluation")
    e.add_argument(
        "--holdout",
        type=float_range(0, high=0.5, high_open=True),
        metavar="SHARE",
        help=f"share of triples held out, half validation, half test (default {D.holdout}; 0 disables evaluation)",
    )
    e.add_argument(
        "--eval-sample",
        dest="eval_sample",
        type=NON_NEGATIVE,
        metavar="N",
        help=f"rank at most N validation and N test triples (default {D.eval_sample})",
    )
    e.add_argument(
        "--eval-every",
        dest="eval_every",
        type=POSITIVE,
        metavar="N",
        help=f"epochs between validations (default {D.eval_every})",
    )
    e.add_argument(
        "--patience",
        type=NON_NEGATIVE,
        metavar="N",
        help=f"validations without improvement before stopping (default {D.patience}; 0 disables early stopping)",
    )
    r = p.add_argument_group("resources")
    r.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], help=f"'auto': CUDA when available, else CPU (default {D.device})"
    )
    r.add_argument(
        "--threads",
        type=POSITIVE,
        metavar="N",
        help=f"CPU threads for torch (default {D.threads}; on a busy machine more threads are slower)",
    )
    r.add_argument(
        "--scorer",
        choices=["grouped", "pykeen"],
        help=f"'grouped': one GEMM per relation; 'pykeen': PyKEEN's per-triple projection, ~6x slower on CPU (default {D.scorer})",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


OPTION_FIELDS = (
    "embedding_dim",
    "relation_dim",
    "epochs",
    "batch_size",
    "learning_rate",
    "negatives",
    "corruption",
    "warm_start",
    "warm_start_epochs",
    "seed",
    "holdout",
    "eval_sample",
    "eval_every",
    "patience",
    "device",
    "threads",
    "scorer",
)


def load_pretrain_config(args: argparse.Namespace):
    from ckgrec.model.pretraining.config import PretrainConfig
    from ckgrec.schemas.config_io import load_toml

    cfg = load_toml(PretrainConfig, args.config, section="pretrain") if args.config else PretrainConfig()
    overrides = {name: getattr(args, name) for name in OPTION_FIELDS if getattr(args, name) is not None}
    return dataclasses.replace(cfg, **overrides)


def parse_graphs(value: str) -> tuple[str, ...]:
    from ckgrec.schemas.errors import ConfigError

    graphs = tuple(g.strip() for g in value.split(",") if g.strip())
    bad = [g for g in graphs if g not in GRAPH_NAMES]
    if bad or not graphs:
        raise ConfigError(f"--graphs '{value}': unknown graph(s) {bad}; choose from {', '.join(GRAPH_NAMES)}")
    return graphs


def run(args: argparse.Namespace) -> int:
    graphs = parse_graphs(args.graphs)
    cfg = load_pretrain_config(args)
    from ckgrec.api import pretrain

    pretrain(args.store, graphs=graphs, config=cfg, verbose=True, progress=not args.quiet)
    return 0
