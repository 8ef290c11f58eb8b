"""``ckg recommend``: top-K items for one user from a trained run, optionally explained."""

from __future__ import annotations

from ckgrec.cli.options import NON_NEGATIVE, POSITIVE


def register(sub) -> None:
    p = sub.add_parser(
        "recommend",
        help="top-K recommendations for a user, with explaining KG paths",
        description="Load the best checkpoint of a run (its store is read from RUN/config.json), score every "
        "item for one user, drop the items the user already has, and print the top K. With --explain, "
        "each item gets the highest-attention paths that connect user and item in each graph.",
    )
    p.add_argument("run", help="run directory written by 'ckg train'")
    p.add_argument("--user", required=True, help="the user's source id (as in the input data)")
    p.add_argument("-k", type=POSITIVE, default=10, help="number of items (default 10)")
    p.add_argument(
        "--explain", action="store_true", help="add the highest-attention KG paths per item (KG models only)"
    )
    p.add_argument("--paths", type=NON_NEGATIVE, default=2, help="paths per graph with --explain (default 2)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where to score (default auto)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import json
    from dataclasses import asdict

    from ckgrec.api import load_run_model
    from ckgrec.model.inference.recommend import recommend, resolve_user
    from ckgrec.pipeline.files import finite_json

    _run, data, model, cfg = load_run_model(args.run, None, args.device)
    recs = recommend(model, data, resolve_user(data, args.user), args.k, args.explain, args.paths)
    if args.json:
        body = finite_json({"user": args.user, "model": cfg["model"], "items": [asdict(r) for r in recs]})
        print(json.dumps(body, indent=2, default=str, allow_nan=False))  # strict JSON: no NaN / Infinity
        return 0
    print(f"top {args.k} for user {args.user} ({cfg['model']}):")
    for r in recs:
        name = f"  {r.name}" if r.name else ""
        cold = "  [no training interaction]" if r.cold else ""
        print(f"{r.rank:3d}. {r.label}{name}  score {r.score:.3f}{cold}")
        for p in r.paths:
            print(f"       [{p['graph']}, {p['score']:.2e}] {p['text']}")
        if args.explain and not r.paths:
            print(
                "       (no path within 3 hops"
                + ("" if hasattr(model, "encoders") else f"; {cfg['model']} is not a KG model")
                + ")"
            )
    return 0
