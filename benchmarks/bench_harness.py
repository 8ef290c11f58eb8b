"""Speed and memory of the harness at scale: BPR-MF and LightGCN on 50k users x 100k items x 1M pairs.

Generates interactions with numpy (Zipf item popularity, users drawn from 50 taste clusters),
writes them in the native layout, builds the store with kgbuild, then runs each model in a
fresh subprocess (so its peak RSS is its own) that times, on this CPU:

* load: reading the store into CSR matrices and building the model (for LightGCN the
  normalised adjacency);
* sample: drawing one epoch of BPR triples (every training pair, one negative each);
* train: the epoch's batches (forward, backward, Adam step);
* eval: one full-ranking evaluation of the validation split (every user with a validation
  pair against all 100k items, training items masked) -- the work early stopping adds per
  evaluation;

and reports the peak resident memory of the process. ``--max-batches N`` times only the first N
batches and extrapolates the epoch (marked as such in the output).

    python benchmarks/bench_harness.py                     # full run, writes RESULTS.md
    python benchmarks/bench_harness.py --users 5000 --items 10000 --pairs 100000 --no-write   # quick look
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def generate(out: Path, n_users: int, n_items: int, n_pairs: int, seed: int = 0) -> Path:
    """interactions.csv (user_id,item_id) with about ``n_pairs`` distinct pairs."""
    rng = np.random.default_rng(seed)
    clusters = 50
    user_cluster = rng.integers(0, clusters, n_users)
    item_cluster = rng.integers(0, clusters, n_items)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    pop = pop[rng.permutation(n_items)]
    # per cluster: sampling distribution over items, boosted 20x for in-cluster items
    users = rng.choice(n_users, size=int(n_pairs * 1.08), p=None)
    users = np.concatenate([np.arange(n_users), users])  # everyone has at least one pair
    items = np.empty_like(users)
    for c in range(clusters):
        rows = np.flatnonzero(user_cluster[users] == c)
        w = pop * np.where(item_cluster == c, 20.0, 1.0)
        items[rows] = rng.choice(n_items, size=len(rows), p=w / w.sum())
    df = pd.DataFrame({"user_id": users, "item_id": items}).drop_duplicates().head(n_pairs)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "interactions.csv", index=False)
    return out


CHILD = r"""
import json, resource, sys, time
import torch
sys.path.insert(0, {root!r})
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.evaluator import evaluate
from ckgrec.model.models.registry import get_model
from ckgrec.model.training.sampler import BPRSampler
from ckgrec.model.training.trainer import make_optimizer
from ckgrec.schemas.store import Store

name, store, max_batches, threads = {name!r}, {store!r}, {max_batches!r}, {threads!r}
if threads:
    torch.set_num_threads(threads)
torch.manual_seed(0)
t0 = time.perf_counter()
data = TrainData.from_store(Store.open(store))
cls = get_model(name)
tc = TrainConfig().resolved(cls)
model = cls.build(data, cls.Config(), torch.device("cpu"))
opt = make_optimizer("adam", model.parameters(), tc.lr)
rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t1 = time.perf_counter()
sampler = BPRSampler(data.train, tc.num_negatives)
gen = torch.Generator().manual_seed(0)
drawn = sampler.draw_epoch(gen)
t2 = time.perf_counter()
n_batches = sampler.num_batches(tc.batch_size)
done = 0
model.train()
for batch in sampler.split(drawn, tc.batch_size):
    opt.zero_grad(set_to_none=True)
    loss, _ = model.objective(batch, tc.l2)
    loss.backward()
    opt.step()
    done += 1
    if max_batches and done >= max_batches:
        break
t3 = time.perf_counter()
train_s = (t3 - t2) * n_batches / done
res = evaluate(model, data, "valid", tc.ks)
t4 = time.perf_counter()
print(json.dumps(dict(
    model=name, threads=torch.get_num_threads(), batch_size=tc.batch_size, batches=n_batches, batches_timed=done,
    extrapolated=done < n_batches, load_s=t1 - t0, sample_s=t2 - t1, train_s=train_s, eval_s=t4 - t3,
    eval_users=res.n_users, recall20=res.metrics.get("recall@20"),
    peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, peak_rss_load_mib=rss_load,
    train_pairs=int(data.train.nnz), n_users=data.n_users, n_items=data.n_items,
)))
"""


def run_child(name: str, store: Path, max_batches: int, threads: int) -> dict:
    code = CHILD.format(root=str(ROOT), name=name, store=str(store), max_batches=max_batches, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{name} benchmark failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=50_000, help="number of users (default 50,000)")
    ap.add_argument("--items", type=int, default=100_000, help="number of items (default 100,000)")
    ap.add_argument("--pairs", type=int, default=1_000_000, help="distinct (user, item) pairs (default 1,000,000)")
    ap.add_argument("--models", default="bprmf,lightgcn", help="comma-separated models (default bprmf,lightgcn)")
    ap.add_argument(
        "--max-batches",
        type=int,
        default=0,
        help="time only this many batches and extrapolate (default 0 = the full epoch)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads in the timed process (default 1: the 2 cores are shared; 0 = torch's choice)",
    )
    ap.add_argument(
        "--work",
        help="directory for the generated data and store, reused when present (default: a temporary directory, removed)",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    args = ap.parse_args(argv)

    from ckgrec.kgbuild.build import build

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="ckg-bench-harness-"))
    try:
        gen_stamp = work / "generate_seconds.txt"
        if not (work / "raw" / "interactions.csv").is_file():
            t = time.perf_counter()
            generate(work / "raw", args.users, args.items, args.pairs)
            gen_stamp.write_text(f"{time.perf_counter() - t:.3f}\n")
        raw = work / "raw"
        gen_s = float(gen_stamp.read_text()) if gen_stamp.is_file() else float("nan")
        store = work / "store"
        stamp = work / "build_seconds.txt"
        if not store.exists():
            t = time.perf_counter()
            build(raw, store, fmt="native")
            stamp.write_text(f"{time.perf_counter() - t:.3f}\n")
        build_s = float(stamp.read_text()) if stamp.is_file() else float("nan")
        print(f"generated in {gen_s:.1f}s, store built in {build_s:.1f}s ({store})", flush=True)
        rows = []
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            r = run_child(name, store, args.max_batches, args.threads)
            print(json.dumps(r), flush=True)
            rows.append(r)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    r0 = rows[0]
    lines = [
        f"Generated store: {r0['n_users']:,} users x {r0['n_items']:,} items, {r0['train_pairs']:,} training pairs "
        f"({args.pairs:,} pairs before the 8:1:1 split); generation {gen_s:.0f}s, `ckg build` {build_s:.0f}s. "
        f"CPU only, {r0['threads']} torch thread(s), each model in its own process.",
        "",
        "| model | batch | batches/epoch | load s | sample s | train s | epoch s (sample+train) | sampling share | valid eval s | eval users | eval / epoch | peak RSS MiB (after load) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        epoch = r["sample_s"] + r["train_s"]
        note = f" (extrapolated from {r['batches_timed']})" if r["extrapolated"] else ""
        lines.append(
            f"| {r['model']} | {r['batch_size']} | {r['batches']}{note} | {r['load_s']:.1f} | {r['sample_s']:.2f} | {r['train_s']:.1f} | "
            f"{epoch:.1f} | {100 * r['sample_s'] / epoch:.1f}% | {r['eval_s']:.1f} | {r['eval_users']:,} | {r['eval_s'] / epoch:.2f} | {r['peak_rss_mib']:.0f} ({r['peak_rss_load_mib']:.0f}) |"
        )
    lines += [
        "",
        "sample: drawing the epoch's triples (permutation + vectorised rejection sampling of negatives); train: forward, "
        "backward and Adam step over all batches; valid eval: one full-ranking pass over every validation user "
        "against all items (the cost each early-stopping evaluation adds). 'eval / epoch' > 1 means evaluating every epoch "
        "would dominate: use `--eval-every N` or `--valid-users N` (a fixed user subsample for early stopping) there. "
        "Peak RSS is the whole process (Python, torch, pandas included); in brackets its value once the store is read and "
        "the model built, before the first epoch. The machine's 2 cores are shared with other jobs, so times carry noise.",
    ]
    body = "\n".join(lines)
    print("\n" + body)
    if not args.no_write:
        from benchmarks.results import update_section

        cmd = (
            "python benchmarks/bench_harness.py"
            + (f" --max-batches {args.max_batches}" if args.max_batches else "")
            + (f" --threads {args.threads}" if args.threads != 1 else "")
        )
        update_section(
            "harness-speed", "Harness speed and memory: BPR-MF and LightGCN, 50k x 100k x 1M (CPU)", cmd, body
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
