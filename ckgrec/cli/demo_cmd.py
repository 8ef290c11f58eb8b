"""``ckg demo``: the main job on the embedded micro-video dataset, with no arguments.

build → pretrain TransR on both graphs → train two baselines and dualkgat → compare on the
test split → three recommendations with the KG paths that explain them. Settings are small
(few epochs) so the whole demo finishes in minutes on a 2-core CPU; the figures it prints are
a smoke run, not the tuned results in benchmarks/RESULTS.md.
"""
from __future__ import annotations

DEMO_MODELS = (("mostpop", {}), ("bprmf", {"epochs": 30}), ("dualkgat", {"epochs": 10}))


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on the embedded micro-video dataset",
        description="Build the embedded micro-video dataset into a store, pretrain TransR on both graphs, "
        "train MostPop, BPR-MF and dualkgat (few epochs), compare them on the test split and print three "
        "explained recommendations. Everything is written under --out.",
    )
    p.add_argument("--out", default="ckg-demo", help="working directory for the store and runs (default: ./ckg-demo; replaced)")
    p.add_argument("--pretrain-epochs", type=int, default=5, help="TransR epochs per graph (default 5)")
    p.add_argument("--build-only", action="store_true", help="stop after building the store and printing its summary")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where to train (default auto)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import shutil
    import time
    from pathlib import Path

    from kgbuild.build import build
    from kgbuild.embedded import embedded_dataset_dir
    from kgbuild.summary import format_summary

    out = Path(args.out)
    t0 = time.perf_counter()
    report = build(embedded_dataset_dir(), out / "store", force=True, verbose=True)
    print(format_summary(report.store))
    if args.build_only:
        return 0

    import torch

    from model.compare import compare, format_table
    from model.config import TrainConfig
    from model.data import TrainData
    from model.pretrain import pretrain_store
    from model.pretrain_config import PretrainConfig
    from model.recommend import recommend
    from model.trainer import load_model, train
    from schemas.store import Store

    torch.set_num_threads(1)
    store = Store.open(report.store)
    print(f"\n[demo] pretraining TransR on both graphs ({args.pretrain_epochs} epochs each) ...", flush=True)
    shutil.rmtree(store.path / "pretrained", ignore_errors=True)
    pretrain_store(store, PretrainConfig(epochs=args.pretrain_epochs, warm_start_epochs=2, patience=0, eval_every=max(1, args.pretrain_epochs), device=args.device))
    data = TrainData.from_store(store)
    runs = []
    for name, opts in DEMO_MODELS:
        run_dir = out / "runs" / name
        shutil.rmtree(run_dir, ignore_errors=True)
        print(f"[demo] training {name} ...", flush=True)
        train(data, name, run_dir, train_config=TrainConfig(threads=1, device=args.device, **opts))
        runs.append(run_dir)
    print("\nTest split, full ranking over all items (training and validation items masked):\n")
    print(format_table(compare(runs, ["recall@20", "ndcg@20", "precision@10", "hit@10"])))
    model, _ = load_model(runs[-1], data, args.device)
    users = store.table("users")["label"].tolist()
    for label in users[:3]:
        user = int(store.table("users").set_index("label").at[label, "user"])
        print(f"\nuser {label}: top 3 by dualkgat")
        for r in recommend(model, data, user, k=3, explain=True, paths_per_graph=1):
            print(f"  {r.rank}. {r.label} {r.name or ''}  score {r.score:.3f}")
            for p in r.paths:
                print(f"       [{p['graph']}] {p['text']}")
    print(f"\n[demo] done in {time.perf_counter() - t0:.0f}s; store {store.path}, runs under {out / 'runs'}")
    return 0
