"""Seconds per epoch of the newer models (SimGCL, FREEDOM, KGIN, ItemKNN, RP3β) and the KG models (KGAT, the
main model dualkgat) beside LightGCN's, one run.

Each (store, model) runs in a fresh subprocess (bench_harness's child, so its peak RSS is its own)
that builds the model at its defaults (``cls.Config()`` and the model's own training defaults:
batch size, learning rate), draws one epoch of BPR triples, times ``--max-batches`` training
steps (forward, backward, Adam) and extrapolates them to the epoch's batch count; a closed-form
model (itemknn, rp3beta) times its one fit instead. Then one full-ranking evaluation of the
validation split. The ratio column divides by LightGCN's epoch on the same store, the yardstick
for a KG model (the main model's bar: at most 2×). dualkgat's knowledge filter is fitted after
training, not per epoch, so it is not in its epoch (and is skipped above 20,000 items).

The stores:

* ``ml100k``: ML-100K + Freebase + text features (benchmarks/work/kg/ml100k-text, built when absent);
* ``1m``: bench_harness's generated 50k users × 100k items × 1M pairs, plus a generated 64-d
  "visual" feature per item (its taste cluster's centre plus noise) so that FREEDOM has features
  and KGIN a KG (the modality concepts the build derives from them). Built once under
  benchmarks/work/harness-features/.

``--before DIR`` (a clean checkout of earlier code, ``git worktree add /tmp/before REV``) runs every
row with that code too, side by side.

    python benchmarks/bench_model_speed.py                                   # the RESULTS.md section
    python benchmarks/bench_model_speed.py --stores ml100k --models kgin --before /tmp/before --no-write
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_harness import generate, run_child  # noqa: E402
from benchmarks.bench_kg_speed import ml100k_store  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "harness-features"
MODELS = "lightgcn,simgcl,freedom,kgin,itemknn,rp3beta,kgat,dualkgat"
STORE_NAMES = {"ml100k": "ML-100K + Freebase + text", "1m": "generated 1M + 64-d features"}


def store_1m(users: int, items: int, pairs: int) -> Path:
    """bench_harness's generated interactions with item features, built into a store (reused when present)."""
    store = WORK / "store"
    if not (store / "manifest.json").exists():
        from ckgrec.kgbuild.build import build

        raw = generate(WORK / "raw", users, items, pairs, feature_dim=64)
        t = time.perf_counter()
        build(raw, store, fmt="native", force=True)
        print(f"1M store built in {time.perf_counter() - t:.0f} s ({store})", flush=True)
    return store


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| store | model | code | batch | batches/epoch (timed) | load s | epoch s (sample + train; closed form: fit) | × LightGCN epoch | valid eval s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    reference = {(r["store"], r["code"]): r["epoch_s"] for r in rows if r["model"] == "lightgcn"}
    for r in rows:
        ref = reference.get((r["store"], r["code"]))
        ratio = f"{r['epoch_s'] / ref:.1f}×" if ref and r["model"] != "lightgcn" else "–"
        batches = f"{r['batches']:,} ({r['batches_timed']})" if r["trainable"] else "closed form"
        lines.append(
            f"| {STORE_NAMES[r['store']]} | {r['model']} | {r['code']} | {r['batch_size'] if r['trainable'] else '–'} | "
            f"{batches} | {r['load_s']:.1f} | {r['epoch_s']:.1f} | {ratio} | {r['eval_s']:.1f} | {r['peak_rss_mib']:.0f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stores", default="ml100k,1m", help="comma-separated stores: ml100k, 1m (default both)")
    ap.add_argument("--models", default=MODELS, help=f"comma-separated models (default {MODELS})")
    ap.add_argument(
        "--max-batches", type=int, default=20, help="training steps timed per model, extrapolated (default 20)"
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads in the timed process (default 1)")
    ap.add_argument("--before", type=Path, help="clean checkout of earlier code: every row with it too")
    ap.add_argument("--users", type=int, default=50_000, help="users of the 1M store (default 50,000)")
    ap.add_argument("--items", type=int, default=100_000, help="items of the 1M store (default 100,000)")
    ap.add_argument("--pairs", type=int, default=1_000_000, help="pairs of the 1M store (default 1,000,000)")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    args = ap.parse_args(argv)

    stores = {"ml100k": ml100k_store, "1m": lambda: store_1m(args.users, args.items, args.pairs)}
    codes = [(None, "after")] + ([(args.before.resolve(), "before")] if args.before else [])
    rows = []
    for key in [s.strip() for s in args.stores.split(",") if s.strip()]:
        store = stores[key]()
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            for checkout, label in codes:
                r = run_child(name, store, args.max_batches, args.threads, checkout, label)
                r = {**r, "store": key, "epoch_s": r["sample_s"] + r["train_s"]}
                print(json.dumps(r), flush=True)
                rows.append(r)
    body = "\n".join(
        [
            f"Each model at its defaults, one run, {args.threads} torch thread(s), each in its own process; "
            f"{args.max_batches} training steps timed after drawing the epoch's triples and extrapolated to the "
            "epoch (sampling, and FREEDOM's per-epoch edge pruning, included). 'valid eval s': one full-ranking "
            "pass over the validation users. The 2 cores are shared with other jobs: compare ratios within a store.",
            "",
            *table(rows),
        ]
    )
    print("\n" + body)
    if not args.no_write:
        from benchmarks.results import update_section

        cmd = "python benchmarks/bench_model_speed.py" + "".join(
            f" --{k.replace('_', '-')} {v}"
            for k, v in (("stores", args.stores), ("models", args.models), ("max_batches", args.max_batches))
            if v != {"stores": "ml100k,1m", "models": MODELS, "max_batches": 20}[k]
        )
        cmd += f" --before {args.before}" if args.before else ""
        update_section("model-speed", "Newer models: seconds per epoch beside LightGCN's (CPU)", cmd, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
