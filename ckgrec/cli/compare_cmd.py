"""``ckg compare``: a table of models x metrics over seeds, with a paired per-user test."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare finished runs: models x metrics, mean ± std over seeds, paired test",
        description="Group finished runs by configuration (runs that differ only in --seed are seeds of one method), "
        "report the mean ± std over seeds of each test metric, and test each method against the best baseline with a "
        "two-sided Wilcoxon signed-rank test over users (per-user metric averaged over seeds). All runs must come from "
        "the same store build. Then one table per user/item group (warm, cold items among all / among cold items only, cold "
        "users, activity quartiles) where the runs have them; 'n/a' marks a model that cannot score never-seen items.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories written by 'ckg train'")
    p.add_argument(
        "--metrics",
        default="recall@20,ndcg@20,recall@10,ndcg@10,precision@10",
        help="comma-separated NAME@K; the first is the one tested and sorted on",
    )
    p.add_argument("--split", choices=["valid", "test"], default="test", help="split to compare (default test)")
    p.add_argument("--reference", help="model (or group label) to test against (default: the best baseline)")
    p.add_argument(
        "--test", choices=["wilcoxon", "ttest"], default="wilcoxon", help="paired test over users (default wilcoxon)"
    )
    p.add_argument(
        "--format", choices=["markdown", "json"], default="markdown", help="output format (default markdown)"
    )
    p.add_argument(
        "--group-metrics",
        default="recall@20,ndcg@20",
        help="metrics of the per-group tables (warm, cold items, cold users, activity quartiles); '' for none (default recall@20,ndcg@20)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ckgrec.api import comparison
    from ckgrec.model.evaluation.compare import format_table

    metrics = [m.strip().lower() for m in args.metrics.split(",") if m.strip()]
    group_metrics = [m.strip().lower() for m in args.group_metrics.split(",") if m.strip()]
    c = comparison(
        args.runs, metrics, split=args.split, reference=args.reference, test=args.test, group_metrics=group_metrics
    )
    print(format_table(c, args.format))
    return 0
