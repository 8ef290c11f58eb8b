"""``ckg evaluate``: rank the best model of a run again (full ranking, or the sampled protocol)."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a trained run on its store (full ranking; sampled protocol on request)",
        description="Load RUN/best.pt, rank every item for the users of the validation and test splits with seen items "
        "masked, and print Precision/Recall/NDCG/Hit/MRR at each K. '--protocol sampled' instead ranks each test item "
        "against N random unseen items; that protocol exists only to compare with papers that report it, its output "
        "says so, and it is written to RUN/scores_sampled.json, never into scores.json.",
    )
    p.add_argument("run", metavar="RUN", help="run directory written by 'ckg train'")
    p.add_argument("--store", help="store to evaluate on (default: the one recorded in RUN/config.json; must be the same build)")
    p.add_argument("--protocol", choices=["full", "sampled"], default="full", help="full ranking (default) or the sampled-negative protocol")
    p.add_argument("--negatives", type=int, default=100, help="negatives per test item for --protocol sampled (default 100)")
    p.add_argument("--ks", help="comma-separated cut-offs K (default: the run's; sampled: 1,5,10)")
    p.add_argument("--split", choices=["valid", "test", "both"], default="both", help="which split(s) to rank (default both)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where to score (default auto)")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from model.config import coerce
    from model.data import TrainData
    from model.evaluator import evaluate
    from model.run_dir import SAMPLED, RunDir
    from model.trainer import load_model
    from schemas.store import Store

    rd = RunDir(args.run).require()
    cfg = rd.read_config()
    store_path = args.store or cfg.get("store", {}).get("path")
    store = Store.open(store_path)
    rd.check_store(store.fingerprint, store_path)
    data = TrainData.from_store(store)
    model, cfg = load_model(rd, data, args.device)
    splits = ["valid", "test"] if args.split == "both" else [args.split]
    if not rd.is_complete:
        print(f"note: {rd.path} has not finished training; evaluating its best state so far")
    if args.protocol == "sampled":
        from model.sampled_protocol import WARNING, evaluate_sampled

        ks = coerce(args.ks, tuple[int, ...], "--ks") if args.ks else (1, 5, 10)
        out = {s: evaluate_sampled(model, data, s, args.negatives, ks, seed=cfg["train"]["seed"]) for s in splits}
        result = {"protocol": "sampled", "warning": WARNING, "negatives": args.negatives, **{s: out[s][s] for s in splits}, "pairs": {s: out[s]["pairs"] for s in splits}}
        rd.write_scores(result, SAMPLED)
        if args.json:
            print(json.dumps(result, indent=2))
            return 0
        print(f"SAMPLED PROTOCOL ({args.negatives} negatives per held-out item) -- {WARNING}")
        for s in splits:
            print(f"{s:5s} " + "  ".join(f"{k} {v:.4f}" for k, v in out[s][s].items()) + f"   [sampled-{args.negatives}]")
        print(f"written to {rd.file(SAMPLED)}")
        return 0
    ks = coerce(args.ks, tuple[int, ...], "--ks") if args.ks else tuple(cfg["train"]["ks"])
    result = {"protocol": "full"}
    for s in splits:
        r = evaluate(model, data, s, ks, batch_users=cfg["train"].get("eval_batch_users", 0))
        result[s] = r.metrics
        result[f"users_{s}"] = r.n_users
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{cfg['model']} ({rd.path}), full ranking, seen items masked")
    for s in splits:
        print(f"{s:5s} users {result[f'users_{s}']:,}")
        for k in ks:
            print("      " + "  ".join(f"{n}@{k} {result[s][f'{n}@{k}']:.4f}" for n in ("precision", "recall", "ndcg", "hit", "mrr")))
    return 0
