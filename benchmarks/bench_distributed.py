"""Data-parallel training: speed-up at 2 processes (gloo, CPU) and the inputs of the 8-GPU estimate.

For each model, the embedded store is trained for ``--epochs`` epochs by one process and by
``--nproc`` processes (``ckgrec.model.training.trainer.train(..., nproc=N)``, the code behind
``ckg train --nproc N``), one torch thread per process, the same total batch, evaluation only after
the last epoch; the figure is the median over epochs of the trainer's own seconds per epoch
(sampling + training, from ``metrics.jsonl``), and the efficiency is ``t1 / (N · tN)``.

It also measures, in one process, what the estimate in docs/training.md ("Several processes")
is made of: per step, the time of forward + backward at the full batch B and at 8 rows (fitted as
``a + b·rows``: ``a``, the 8-row step, is what every rank repeats, e.g. LightGCN's full-graph
propagation; ``b·B`` what the ranks share out), the optimiser step (every rank repeats it, over the whole tables),
the parameters all-reduced per step (dense: every parameter) and the embedding rows the batch
actually touches (what a sparse exchange would send).

The 2 cores of the usual machine are shared by other jobs: run it under ``nice`` and read the
efficiency as noisy (a neighbour's burst lands in one run and not the other).

    nice -n 15 python benchmarks/bench_distributed.py                  # the results/distributed.md section
    python benchmarks/bench_distributed.py --models bprmf --epochs 2 --no-write
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORK = ROOT / "benchmarks" / "work" / "distributed"


def embedded_store() -> Path:
    out = WORK / "embedded"
    if not (out / "manifest.json").exists():
        from ckgrec.kgbuild.build import build
        from ckgrec.kgbuild.embedded import embedded_dataset_dir

        build(embedded_dataset_dir(), out)
    return out


def epoch_seconds(run: Path) -> list[float]:
    from ckgrec.model.core.run_dir import RunDir

    return [r["seconds_sample"] + r["seconds_train"] for r in RunDir(run).read_metrics()]


def timed_run(data, name: str, nproc: int, epochs: int, seed: int) -> dict:
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    tc = TrainConfig(epochs=epochs, patience=0, eval_every=epochs, threads=1, seed=seed, device="cpu")
    run = WORK / "runs" / f"{name}-n{nproc}"
    scores = train(data, name, run, train_config=tc, force=True, nproc=nproc)
    secs = epoch_seconds(run)
    return {"median": statistics.median(secs), "all": secs, "recall": scores["test"]["recall@20"]}


def step_parts(data, name: str, reps: int, seed: int) -> dict:
    """In one process: a + b·rows of forward+backward, the optimiser step, parameters, touched rows."""
    import torch

    from ckgrec.model.core import checkpoint as ckpt
    from ckgrec.model.models.registry import get_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.sampler import BPRSampler
    from ckgrec.model.training.trainer import make_optimizer

    cls = get_model(name)
    tc = TrainConfig().resolved(cls)
    gen = ckpt.seed_everything(seed)
    model = cls.build(data, cls.Config(), torch.device("cpu"))
    opt = make_optimizer(tc.optimizer, model.parameters(), tc.lr)
    sampler = BPRSampler(data.train, num_negatives=tc.num_negatives)
    batches = list(sampler.split(sampler.draw_epoch(gen), tc.batch_size))[:reps]
    batches = [b for b in batches if len(b) == tc.batch_size] or batches
    B = len(batches[0])

    def fwd_bwd(rows: int) -> float:
        t = time.perf_counter()
        for b in batches:
            sub = type(b)(b.users[:rows], b.pos[:rows], b.neg[:rows])
            opt.zero_grad(set_to_none=True)
            loss, _ = model.objective(sub, tc.l2)
            loss.backward()
        return (time.perf_counter() - t) / len(batches)

    fwd_bwd(B)  # warm-up
    full = min(fwd_bwd(B) for _ in range(5))  # the minimum of repeats: the least disturbed by neighbours
    tiny = min(fwd_bwd(8) for _ in range(5))  # 8 rows: what a step costs whatever its batch
    a = tiny
    b_row = max(0.0, (full - tiny) / (B - 8))
    loss, _ = model.objective(batches[0], tc.l2)
    loss.backward()
    t = time.perf_counter()
    for _ in range(len(batches)):
        opt.step()
    t_opt = (time.perf_counter() - t) / len(batches)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    dim = max((p.shape[1] for p in model.parameters() if p.dim() == 2), default=1)
    touched = statistics.mean(
        int(torch.unique(b.users).numel()) + int(torch.unique(torch.cat([b.pos, b.neg.flatten()])).numel())
        for b in batches
    )
    return {
        "B": B,
        "a": a,
        "bB": b_row * B,
        "opt": t_opt,
        "params": n_params,
        "rows": data.n_users + data.n_items,
        "touched": touched,
        "dim": dim,
        "batches_per_epoch": sampler.num_batches(tc.batch_size),
    }


def estimate(parts: dict, world: int, gpu_speedup: float, bus_gbs: float, latency_s: float) -> dict:
    """Per-step efficiency t1 / (W · tW) on W GPUs with a ring all-reduce of every parameter.

    tW = (a + b·B/W + opt) / s + 2(W-1)/W · bytes / bandwidth + latency; t1 = (a + b·B + opt) / s.
    """
    s = gpu_speedup
    t1 = (parts["a"] + parts["bB"] + parts["opt"]) / s
    dense = parts["params"] * 4
    sparse = parts["touched"] * parts["dim"] * 4
    ring = 2 * (world - 1) / world

    def eff(volume: float) -> float:
        tw = (parts["a"] + parts["bB"] / world + parts["opt"]) / s + ring * volume / (bus_gbs * 1e9)
        tw += latency_s
        return t1 / (world * tw)

    compute_only = t1 / (world * (parts["a"] + parts["bB"] / world + parts["opt"]) / s)
    return {
        "dense_mib": dense / 2**20,
        "sparse_mib": sparse / 2**20,
        "eff_dense": eff(dense),
        "eff_sparse_rows": eff(sparse),
        "eff_compute_only": compute_only,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="bprmf,lightgcn", help="comma-separated models (default bprmf,lightgcn)")
    ap.add_argument("--epochs", type=int, default=5, help="epochs per run (default 5)")
    ap.add_argument("--nproc", type=int, default=2, help="processes of the parallel run (default 2)")
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--reps", type=int, default=6, help="batches timed for the step breakdown (default 6)")
    ap.add_argument("--gpus", type=int, default=8, help="world size of the estimate (default 8)")
    ap.add_argument(
        "--gpu-speedup",
        default="5,20",
        help="assumed GPU / one-core-here compute ratios per step, comma-separated (default 5,20)",
    )
    ap.add_argument("--bus-gbs", type=float, default=100.0, help="assumed NCCL all-reduce bus bandwidth, GB/s")
    ap.add_argument("--latency-us", type=float, default=30.0, help="assumed latency of one all-reduce, microseconds")
    ap.add_argument("--no-write", action="store_true", help="print, do not write results/distributed.md")
    args = ap.parse_args(argv)

    import torch

    from ckgrec.model.data.train_data import TrainData
    from ckgrec.schemas.store import Store

    torch.set_num_threads(1)
    data = TrainData.from_store(Store.open(embedded_store()))
    models = [m for m in args.models.split(",") if m]
    speed = [
        "| model | t1 s/epoch | t2 s/epoch | speed-up | efficiency t1/(N·tN) | recall@20 1 proc / N procs |",
        "|---|---|---|---|---|---|",
    ]
    speed[0] = speed[0].replace("t2", f"t{args.nproc}")
    paper = [
        "| model | B | a (repeated) ms | b·B (shared) ms | optimiser ms | params all-reduced | MiB/step dense | rows touched / all | MiB/step touched rows |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    est = [
        "| model | GPU/core compute ratio s | compute only (Amdahl) | + dense all-reduce | + touched rows only |",
        "|---|---|---|---|---|",
    ]
    load_before = os.getloadavg()[0]
    for name in models:
        one = timed_run(data, name, 1, args.epochs, args.seed)
        many = timed_run(data, name, args.nproc, args.epochs, args.seed)
        eff = one["median"] / (args.nproc * many["median"])
        print(f"{name}: 1 proc {one['all']}, {args.nproc} procs {many['all']}, efficiency {eff:.2f}", flush=True)
        speed.append(
            f"| {name} | {one['median']:.3f} | {many['median']:.3f} | {one['median'] / many['median']:.2f}x | "
            f"{eff:.2f} | {one['recall']:.4f} / {many['recall']:.4f} |"
        )
        p = step_parts(data, name, args.reps, args.seed)
        ratios = [float(x) for x in str(args.gpu_speedup).split(",") if x]
        es = [estimate(p, args.gpus, r, args.bus_gbs, args.latency_us * 1e-6) for r in ratios]
        e = es[0]
        paper.append(
            f"| {name} | {p['B']} | {p['a'] * 1e3:.1f} | {p['bB'] * 1e3:.1f} | {p['opt'] * 1e3:.1f} | {p['params']:,} | "
            f"{e['dense_mib']:.2f} | {p['touched']:.0f} / {p['rows']} | {e['sparse_mib']:.2f} |"
        )
        for r, x in zip(ratios, es):
            est.append(
                f"| {name} | {r:g} | {x['eff_compute_only']:.2f} | {x['eff_dense']:.2f} | {x['eff_sparse_rows']:.2f} |"
            )
    body = "\n".join(
        [
            f"Embedded store (1,000 users, 2,000 items), {args.epochs} epochs, each model at its paper defaults "
            f"(batch, lr, d = 64), one torch thread per process, gloo on the CPU, seed {args.seed}; seconds per "
            "epoch are the median over epochs of the trainer's own figure. The machine's cores are shared with "
            f"other jobs (1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on "
            f"{os.cpu_count()} cores): the two ranks did not have a core each, so the efficiency is noisy and "
            "pessimistic.",
            "",
            *speed,
            "",
            "Per step, in one process (what the estimate is made of): forward + backward fitted as a + b·rows "
            "from the full batch and an 8-row batch (minimum of 5 repeats), the optimiser step, and what an "
            "all-reduce moves.",
            "",
            *paper,
            "",
            f"Estimated efficiency at {args.gpus} GPUs, same total batch (per step: every rank repeats a and the "
            f"optimiser, shares b·B, then a ring all-reduce moving 2(W-1)/W of the bytes), assuming a GPU computes a "
            f"step s times faster than one core here, {args.bus_gbs:g} GB/s all-reduce bus bandwidth and "
            f"{args.latency_us:g} µs per all-reduce — assumptions, not measurements (no GPU was used):",
            "",
            *est,
        ]
    )
    print(body)
    if not args.no_write:
        from benchmarks.results import update_section

        shown = " ".join(argv if argv is not None else sys.argv[1:])
        cmd = f"nice -n 15 python benchmarks/bench_distributed.py {shown}".strip()
        update_section("distributed", "Data-parallel training: speed-up at 2 processes, 8-GPU estimate", cmd, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
