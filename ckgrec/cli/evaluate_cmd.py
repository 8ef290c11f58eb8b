"""``ckg evaluate``: rank the best model of a run again (full ranking, or the sampled protocol)."""

from __future__ import annotations

import argparse

from ckgrec.cli.options import POSITIVE


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a trained run on its store (full ranking; sampled protocol on request)",
        description="Load RUN/best.pt, rank every item for the users of the validation and test splits with seen items "
        "masked, and print Precision/Recall/NDCG/Hit/MRR at each K, overall and per user/item group (warm, cold items among "
        "all / cold items only, cold users, activity quartiles; 'n/a' where the model cannot score never-seen items, or users without history). "
        "'--protocol sampled' instead ranks each test item "
        "against N random unseen items; that protocol exists only to compare with papers that report it, its output "
        "says so, and it is written to RUN/scores_sampled.json, never into scores.json.",
    )
    p.add_argument("run", metavar="RUN", help="run directory written by 'ckg train'")
    p.add_argument(
        "--store", help="store to evaluate on (default: the one recorded in RUN/config.json; must be the same build)"
    )
    p.add_argument(
        "--protocol",
        choices=["full", "sampled"],
        default="full",
        help="full ranking (default) or the sampled-negative protocol",
    )
    p.add_argument(
        "--negatives", type=POSITIVE, default=100, help="negatives per test item for --protocol sampled (default 100)"
    )
    p.add_argument("--ks", help="comma-separated cut-offs K (default: the run's; sampled: 1,5,10)")
    p.add_argument(
        "--split", choices=["valid", "test", "both"], default="both", help="which split(s) to rank (default both)"
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where to score (default auto)")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from ckgrec.api import load_run_model
    from ckgrec.model.core.options import coerce
    from ckgrec.model.core.run_dir import SAMPLED
    from ckgrec.model.evaluation.evaluator import evaluate
    from ckgrec.model.evaluation.groups import (
        NOT_APPLICABLE,
        Protocols,
        group_scores,
        unscorable_groups,
    )
    from ckgrec.pipeline.files import finite_json

    rd, data, model, cfg = load_run_model(args.run, args.store or None, args.device)
    splits = ["valid", "test"] if args.split == "both" else [args.split]
    if not rd.is_complete:
        print(f"note: {rd.path} has not finished training; evaluating its best state so far")
    if args.protocol == "sampled":
        from ckgrec.model.evaluation.sampled_protocol import WARNING, evaluate_sampled

        ks = coerce(args.ks, tuple[int, ...], "--ks") if args.ks else (1, 5, 10)
        out = {s: evaluate_sampled(model, data, s, args.negatives, ks, seed=cfg["train"]["seed"]) for s in splits}
        result = {
            "protocol": "sampled",
            "warning": WARNING,
            "negatives": args.negatives,
            **{s: out[s][s] for s in splits},
            "pairs": {s: out[s]["pairs"] for s in splits},
        }
        with rd.lock(command="another ckg command writing that run"):  # one writer of the run directory at a time
            rd.write_scores(finite_json(result), SAMPLED)
        if args.json:
            print(json.dumps(finite_json(result), indent=2, allow_nan=False))
            return 0
        print(f"SAMPLED PROTOCOL ({args.negatives} negatives per held-out item) -- {WARNING}")
        for s in splits:
            print(
                f"{s:5s} " + "  ".join(f"{k} {v:.4f}" for k, v in out[s][s].items()) + f"   [sampled-{args.negatives}]"
            )
        print(f"written to {rd.file(SAMPLED)}")
        return 0
    ks = coerce(args.ks, tuple[int, ...], "--ks") if args.ks else tuple(cfg["train"]["ks"])
    result = {"protocol": "full"}
    protocols = Protocols.of(data)
    by_group = {}
    for s in splits:
        r = evaluate(model, data, s, ks, batch_users=cfg["train"].get("eval_batch_users", 0), groups=protocols)
        result[s] = r.metrics
        result[f"users_{s}"] = r.n_users
        by_group[s] = r.groups
    result["groups"], uninformed = group_scores(by_group, unscorable_groups(model, protocols))
    if uninformed:
        result["groups_uninformed"] = uninformed
    if args.json:
        print(json.dumps(finite_json(result), indent=2, allow_nan=False))  # strict JSON: NaN / Infinity as null
        return 0
    print(f"{cfg['model']} ({rd.path}), full ranking, seen items masked")
    for s in splits:
        print(f"{s:5s} users {result[f'users_{s}']:,}")
        for k in ks:
            print(
                "      "
                + "  ".join(
                    f"{n}@{k} {result[s][f'{n}@{k}']:.4f}" for n in ("precision", "recall", "ndcg", "hit", "mrr")
                )
            )
        k = max(ks)
        for name, g in result["groups"].get(s, {}).items():
            shown = (
                (
                    "n/a (the model cannot rank for users without history)"
                    if name == "cold_users"
                    else "n/a (the model cannot score never-seen items)"
                )
                if g == NOT_APPLICABLE
                else (f"recall@{k} {g[f'recall@{k}']:.4f}  ndcg@{k} {g[f'ndcg@{k}']:.4f}  ({g['n_users']:,} users)")
            )
            print(f"      {name:16s} {shown}")
    return 0
