"""Seconds per epoch and peak memory of ``kgat`` and ``dualkgat``, against RecBole's KGAT figure.

An epoch of these models is: the CF phase (one BPR batch after another, each re-running the
propagation over the whole graph, as KGAT does), the KG phase (TransR batches over the triples
of each graph), and one attention refresh. Each (store, model) runs in a fresh subprocess (so
its peak RSS is its own) that builds the model and its optimizers exactly as ``ckg train`` does
and times, at each of the ``--threads`` counts:

* cf: ``--batches`` CF steps (forward, backward, Adam), extrapolated to the epoch's batch count;
* kg: ``--batches`` KG steps, extrapolated likewise;
* refresh: one attention refresh;
* with ``--profile N``: N more steps of each phase under torch.profiler, split by kind of
  operator (matrix products, random numbers, optimizer, the rest), which shows how much of an
  epoch any implementation must spend and how much is left to save;
* with ``--full-epoch``: one whole epoch through the trainer's own loop, to check the extrapolation;
* with ``--recbole-python PY``: RecBole 1.2.1's KGAT on the same ML-100K files, at each thread
  count, through ``benchmarks/recbole_kgat_epoch.py`` run by PY, an interpreter with RecBole
  installed (its docstring gives the environment), so the comparison is side by side on this
  machine rather than against the issue's figure from another one.

Times are the process's CPU seconds (``time.process_time``) and wall seconds: this machine is
shared by several jobs, so wall time measures the neighbours too; with one torch thread, CPU time
is what the epoch costs on an idle core. With two threads, wall time on a quiet machine is the
figure (the issue's 1M target is for this 2-core CPU).

The stores: ML-100K (RecBole atomic files + Freebase KG + text features, as the issue asks) and
the 1M-interaction store that ``benchmarks/bench_harness.py`` generates (built first if absent).
Extrapolated epochs are marked as such; the trainer's own per-epoch times are in each run's
metrics.jsonl.

    python benchmarks/bench_kg_speed.py --threads 1,2 --full-epoch ml100k:kgat:1,1m:kgat:2 --recbole-python /tmp/recbole-env/bin/python   # the RESULTS.md section
    python benchmarks/bench_kg_speed.py --no-write --batches 3 --stores ml100k
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "datasets"
WORK = ROOT / "benchmarks" / "work"
LIGHT_PRESET = "configs/paper.toml"  # dualkgat's paper design (plain dualkgat is the LightGCN-regime setting now)
RECBOLE_KGAT_S_PER_EPOCH = 9.4  # RecBole 1.2.1 KGAT on ML-100K, one thread, on the issue author's machine (issue 6)


def ml100k_store() -> Path:
    out = WORK / "kg" / "ml100k-text"
    if not (out / "manifest.json").exists():
        from ckgrec.kgbuild.build import build

        build(SHARED / "ml-100k-recbole", out, extra_features={"text": str(SHARED / "ml-100k-features")}, force=True)
    return out


def harness_store() -> Path:
    out = WORK / "harness" / "store"
    if not (out / "manifest.json").exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "bench_harness.py"),
                "--no-write",
                "--models",
                "bprmf",
                "--max-batches",
                "1",
                "--work",
                str(out.parent),
            ],
            check=True,
            cwd=ROOT,
        )
    return out


_CLOCK = time.process_time  # wall clock on CUDA, where the work is asynchronous


def _clock() -> float:
    return _CLOCK()


# what an op is, for the profile: the matrix products are the floor of a step (any implementation of
# the same model does them), the rest is what an implementation can still save
KINDS = {
    "matrix products (dense and sparse)": (
        "aten::mm",
        "aten::addmm",
        "aten::bmm",
        "aten::baddbmm",
        "aten::_sparse_mm",
        "aten::_sparse_addmm",
        "aten::_sparse_csr_mm",
        "aten::addmv",
    ),
    "random numbers (dropout masks, samples)": (
        "aten::bernoulli_",
        "aten::uniform_",
        "aten::random_",
        "aten::normal_",
        "aten::randint",
    ),
    "optimizer (fused Adam)": ("aten::_fused_adam_", "aten::_fused_adamw_"),
}
OTHER = "everything else (element-wise, copies, indexing, allocation)"


def profile_by_kind(step, args: list) -> dict[str, float]:
    """Self CPU seconds per call of ``step``, by kind of operator (torch.profiler; its own overhead
    makes the total a little larger than the timed step)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for a in args:
            step(a)
    out = {k: 0.0 for k in [*KINDS, OTHER]}
    for ev in prof.key_averages():
        kind = next((k for k, names in KINDS.items() if ev.key in names), OTHER)
        out[kind] += ev.self_cpu_time_total / 1e6 / max(1, len(args))
    return out


def full_epoch_seconds(data, model, config, batch_size: int, dev, threads: int, sync) -> dict[str, float]:
    """One whole epoch through the trainer's own epoch loop (sampling, every CF batch, every KG
    batch, the refresh), on a fresh pair of its optimizers: checks the extrapolation."""
    import tempfile

    import torch

    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.sampler import BPRSampler
    from ckgrec.model.training.trainer import Trainer, make_optimizers

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            data, model.name, config, TrainConfig(batch_size=batch_size, lr=1e-3, l2=1e-5, threads=threads), tmp
        )
        tc = trainer.tc
        sampler = BPRSampler(data.train, num_negatives=tc.num_negatives, negatives_from=tc.negatives_from)
        optimizers = make_optimizers(model, tc)
        t, wall = time.process_time(), time.perf_counter()
        trainer._one_epoch(model, sampler, optimizers, torch.Generator().manual_seed(1), dev, 1)
        sync()
        return {"cpu_s": time.process_time() - t, "wall_s": time.perf_counter() - wall}


def child(
    store: str,
    model_name: str,
    batch_size: int,
    n_batches: int,
    device: str,
    threads: int,
    profile_steps: int = 0,
    full_epoch: bool = False,
) -> dict:
    """Runs in the subprocess: build, time phases, print one JSON line."""
    import resource

    import torch

    torch.set_num_threads(threads)
    from ckgrec.model.core.options import build_config
    from ckgrec.model.data.train_data import TrainData
    from ckgrec.model.models.base import Batch
    from ckgrec.model.models.registry import get_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import make_optimizers
    from ckgrec.schemas.store import Store

    t0 = _clock()
    st = Store.open(store)
    data = TrainData.from_store(st)
    # "dualkgat:configs/x.toml": that file's [model] options; "kgat@side_edges=stored": options by hand
    name, _, preset = model_name.partition(":")
    name, *assignments = name.split("@")
    cls = get_model(name)
    options = {}
    if preset:
        import tomllib

        options = tomllib.loads((ROOT / preset).read_text()).get("model", {})
    dev = torch.device(device)
    global _CLOCK
    _CLOCK = time.perf_counter if dev.type == "cuda" else time.process_time
    config = build_config(cls.Config, {"init": "random", **options}, assignments, where=preset or "defaults")
    model = cls.build(data, config, dev)
    load_s = _clock() - t0
    gen = torch.Generator().manual_seed(0)
    # the trainer's optimizers (torch's fused Adam on the CPU): the for-each Adam doubled a KG step
    optimizers = make_optimizers(model, TrainConfig(lr=1e-3).resolved(cls))
    opt, kg_opt = optimizers["cf"], optimizers.get("kg")
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    t = _clock()
    model.on_epoch_start(1, gen)
    sync()
    refresh_s = _clock() - t
    users, items = data.train_pairs()
    n_pairs = len(users)
    cf_batches = math.ceil(n_pairs / batch_size)

    def cf_step() -> None:
        idx = torch.randint(0, n_pairs, (batch_size,), generator=gen)
        b = Batch(
            torch.from_numpy(users)[idx],
            torch.from_numpy(items)[idx],
            torch.randint(0, data.n_items, (batch_size, 1), generator=gen),
        ).to(dev)
        loss, _ = model.objective(b, 1e-5)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    kg_all = list(model.phase_batches("kg", 1, gen))
    kg_steps = kg_all[: n_batches + 1]

    def kg_step(b) -> None:
        loss, _ = model.phase_loss("kg", b)
        kg_opt.zero_grad(set_to_none=True)
        loss.backward()
        kg_opt.step()

    def timed(step, args: list) -> tuple[float, float]:
        """(CPU s, wall s) per call of ``step`` over ``args``, after one warm-up call on the first
        (allocator, first CSR products)."""
        if not args:  # no KG batches with kg_weight = 0
            return 0.0, 0.0
        step(args[0])
        sync()
        t, wall = _clock(), time.perf_counter()
        for a in args[1:]:
            step(a)
        sync()
        n = max(1, len(args) - 1)
        return (_clock() - t) / n, (time.perf_counter() - wall) / n

    cf_step_s, cf_wall_s = timed(lambda _: cf_step(), list(range(n_batches + 1)))
    kg_step_s, kg_wall_s = timed(kg_step, kg_steps)
    profile = None
    if profile_steps:
        profile = {
            "cf": profile_by_kind(lambda _: cf_step(), [None] * profile_steps),
            "kg": profile_by_kind(kg_step, kg_steps[:profile_steps]),
        }
    measured = full_epoch_seconds(data, model, config, batch_size, dev, threads, sync) if full_epoch else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "store": Path(store).name,
        "model": name
        + (f" ({Path(preset).name})" if preset else "")
        + (f" ({', '.join(assignments)})" if assignments else ""),
        "device": device,
        "threads": threads,
        "users": data.n_users,
        "items": data.n_items,
        "train_pairs": n_pairs,
        "entities": {enc.graph.graph: enc.graph.num_entities for enc in model.encoders},
        "edges": {enc.graph.graph: enc.propagated_edges for enc in model.encoders},
        "batch_size": batch_size,
        "cf_batches": cf_batches,
        "kg_batches": len(kg_all),
        "cf_step_s": cf_step_s,
        "cf_step_wall_s": cf_wall_s,
        "kg_step_s": kg_step_s,
        "kg_step_wall_s": kg_wall_s,
        "refresh_s": refresh_s,
        "epoch_s": cf_step_s * cf_batches + kg_step_s * len(kg_all) + refresh_s,
        "epoch_wall_s": cf_wall_s * cf_batches + kg_wall_s * len(kg_all) + refresh_s,
        "load_s": load_s,
        "peak_rss_mib": peak,
        "profile": profile,
        "full_epoch": measured,
    }
    if dev.type == "cuda":  # GPU work is asynchronous: CPU time means nothing there, use wall
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
    return out


def run_child(
    store: Path,
    model: str,
    batch_size: int,
    n_batches: int,
    device: str,
    threads: int,
    profile_steps: int,
    full_epoch: bool,
) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(store),
        model,
        str(batch_size),
        str(n_batches),
        device,
        str(threads),
        str(profile_steps),
        str(int(full_epoch)),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_recbole(python: str, threads: int, epochs: int, batch_size: int) -> dict:
    """RecBole's KGAT epochs on ML-100K in the interpreter ``python`` (see recbole_kgat_epoch.py)."""
    cmd = [
        python,
        str(ROOT / "benchmarks" / "recbole_kgat_epoch.py"),
        str(SHARED / "ml-100k-recbole"),
        "--epochs",
        str(epochs),
        "--threads",
        str(threads),
        "--batch-size",
        str(batch_size),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for key in ("cpu_s", "wall_s"):  # the median epoch
        out[key] = statistics.median_low(e[key] for e in out["epochs"])
    return out


def recbole_table(runs: dict[int, dict]) -> str:
    lines = [
        "| RecBole | threads | users + entities | relations | edges (A_in) | batch | epochs: CPU s (wall) | **CPU s/epoch** (median) | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t, r in sorted(runs.items()):
        epochs = ", ".join(f"{e['cpu_s']:.1f} ({e['wall_s']:.1f})" for e in r["epochs"])
        lines.append(
            f"| {r['recbole']} KGAT, torch {r['torch']}, DGL: {r['dgl']} | {t} | {r['users']:,} + {r['entities']:,} | {r['relations']} | "
            f"{r['edges']:,} | {r['batch_size']} | {epochs} | **{r['cpu_s']:.1f}** | {r['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def recbole_reference(r: dict, recbole: dict[int, dict]) -> tuple[float, str]:
    """RecBole's CPU s per epoch to compare a record with: measured beside it at the same thread
    count when there is one, else the issue's one-thread figure from another machine."""
    if r["threads"] in recbole:
        return recbole[r["threads"]]["cpu_s"], "side by side"
    return RECBOLE_KGAT_S_PER_EPOCH, "the issue's figure"


STORE_NAMES = {"ml100k-text": "ML-100K + Freebase + text", "store": "generated 1M (bench_harness)"}


def table(records: list[dict], n_batches: int, recbole: dict[int, dict] | None = None) -> str:
    recbole = recbole or {}
    lines = [
        "| store | model | device | threads | entities (G_u / G_i) | edges (G_u / G_i) | batch | CF batches × CPU s (wall) | KG batches × CPU s (wall) | refresh CPU s "
        "| **CPU s/epoch** | wall s/epoch | one whole epoch, CPU s (wall) | vs RecBole KGAT (CPU s/epoch) | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        ents = " / ".join(f"{v:,}" for v in r["entities"].values())
        edges = " / ".join(f"{v:,}" for v in r["edges"].values())
        ratio_s = "—"
        if r["store"] == "ml100k-text":
            reference, source = recbole_reference(r, recbole)
            ratio = reference / r["epoch_s"]
            ratio_s = (
                f"{ratio:.2f}× faster" if ratio >= 1 else f"{1 / ratio:.2f}× slower"
            ) + f" ({reference:.1f} s, {source})"
        full = f"{r['full_epoch']['cpu_s']:.1f} ({r['full_epoch']['wall_s']:.1f})" if r.get("full_epoch") else "—"
        lines.append(
            f"| {STORE_NAMES.get(r['store'], r['store'])} | {r['model']} | {r['device']} | {r['threads']} | {ents} | {edges} | {r['batch_size']} | "
            f"{r['cf_batches']} × {r['cf_step_s']:.3f} ({r['cf_step_wall_s']:.3f}) | {r['kg_batches']} × {r['kg_step_s']:.3f} ({r['kg_step_wall_s']:.3f}) | "
            f"{r['refresh_s']:.2f} | **{r['epoch_s']:.1f}** | {r['epoch_wall_s']:.1f} | {full} | {ratio_s} | {r['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        f"CPU and wall s/epoch are extrapolated from {n_batches} timed batches per phase (after one warm-up batch); 'one whole epoch' is "
        "an epoch through the trainer's own loop (sampling included), where --full-epoch asked for it.",
    ]
    return "\n".join(lines)


def profile_table(records: list[dict]) -> str:
    """Each epoch split by kind of operator: the matrix products are what any implementation of
    the same model must compute, so their share bounds how much faster an epoch can get."""
    rows = [r for r in records if r.get("profile")]
    if not rows:
        return ""
    lines = [
        "| store | model | threads | kind of operator | CF CPU s/step | KG CPU s/step | CPU s/epoch | share |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cf, kg = r["profile"]["cf"], r["profile"].get("kg") or {}
        epoch = {k: cf[k] * r["cf_batches"] + kg.get(k, 0.0) * r["kg_batches"] for k in cf}
        total = sum(epoch.values())
        for k in cf:
            lines.append(
                f"| {STORE_NAMES.get(r['store'], r['store'])} | {r['model']} | {r['threads']} | {k} | {cf[k]:.4f} | {kg.get(k, 0.0):.4f} | {epoch[k]:.1f} | {epoch[k] / total:.0%} |"
            )
    return "\n".join(lines)


def targets(records: list[dict], recbole: dict[int, dict] | None = None) -> str:
    """The issue's speed targets, read off the records: kgat on ML-100K at least 5x faster than
    RecBole's KGAT (one thread), and a 1M kgat epoch under 10 minutes on this 2-core CPU."""
    recbole = recbole or {}
    out = []
    for r in records:
        if r["model"] != "kgat" or r["device"] != "cpu":
            continue
        if r["store"] == "ml100k-text" and r["threads"] == 1:
            reference, source = recbole_reference(r, recbole)
            goal = reference / 5
            ours, how = r["epoch_s"], "extrapolated"
            if r.get("full_epoch"):  # like for like: RecBole's figure is whole epochs, sampling included
                ours, how = r["full_epoch"]["cpu_s"], "one whole epoch"
            line = (
                f"- kgat on ML-100K, one thread: {ours:.1f} CPU s per epoch ({how}) against RecBole's {reference:.1f} s ({source}): "
                f"{reference / ours:.2f}× as fast; the 5× target is {goal:.2f} s."
            )
            if r.get("profile"):
                cf, kg = r["profile"]["cf"], r["profile"]["kg"]
                k = next(iter(KINDS))
                products = cf[k] * r["cf_batches"] + kg[k] * r["kg_batches"]
                line += (
                    f" The matrix products alone take {products:.2f} CPU s per epoch (profile above), which RecBole's KGAT computes as well "
                    "(the same float32 products of every CF batch's full-graph propagation): "
                    f"{'the target is out of reach without changing what an epoch computes' if products >= goal else 'less than the target'}."
                )
            out.append(line)
        if r["store"] != "ml100k-text":
            whole = r.get("full_epoch")
            wall, how = (
                (whole["wall_s"], "one whole epoch, wall") if whole else (r["epoch_wall_s"], "extrapolated wall")
            )
            out.append(
                f"- kgat on the 1M store, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: {wall:.0f} s per epoch ({how}; "
                f"{r['epoch_s']:.0f} CPU s) against the target of 600 s on this 2-core CPU: {'met' if wall < 600 else 'missed'}."
            )
    out.append(
        "- under 2 s per 1M kgat epoch on one H100: "
        + (
            "see the cuda rows."
            if any(r["device"] != "cpu" for r in records)
            else "not measured here (no GPU in this run)."
        )
    )
    return "Targets of issue 6 (the first speed issue):\n\n" + "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        store, model, bs, nb, device, threads, prof, full = argv[1:]
        print(json.dumps(child(store, model, int(bs), int(nb), device, int(threads), int(prof), bool(int(full)))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--stores",
        default="ml100k,1m",
        help="comma-separated: ml100k (ML-100K + Freebase + text), 1m (generated 1M interactions)",
    )
    ap.add_argument(
        "--models",
        default=f"kgat,dualkgat,dualkgat:{LIGHT_PRESET}",
        help="comma-separated models; MODEL:FILE takes the [model] options of that TOML file, MODEL@KEY=VALUE@... sets options "
        f"by hand (default kgat, dualkgat and dualkgat with {LIGHT_PRESET})",
    )
    ap.add_argument(
        "--batch-size", type=int, default=2048, help="CF batch size (default 2048, RecBole's default train_batch_size)"
    )
    ap.add_argument(
        "--batches", type=int, default=5, help="timed batches per phase, after one warm-up batch (default 5)"
    )
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    ap.add_argument(
        "--threads",
        default="1",
        help="comma-separated torch CPU thread counts; every (store, model) runs at each (default 1)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=3,
        help="profile this many more steps of each phase and split the epoch by kind of operator "
        "(CPU only; 0 = off; default 3)",
    )
    ap.add_argument(
        "--full-epoch",
        nargs="?",
        const="all",
        default="",
        metavar="STORE:MODEL:THREADS,...",
        help="also run one whole epoch through the trainer's epoch loop, beside the extrapolation, for these runs (e.g. 1m:kgat:2; "
        "alone: for every run; a 1M dualkgat epoch takes over 20 minutes here)",
    )
    ap.add_argument(
        "--recbole-python",
        default="",
        metavar="PYTHON",
        help="an interpreter with RecBole 1.2.1 installed (see benchmarks/recbole_kgat_epoch.py): also time RecBole's KGAT on the same "
        "ML-100K files at each thread count, side by side; without it the comparison uses the issue's figure (9.4 s, another machine)",
    )
    ap.add_argument(
        "--recbole-epochs",
        type=int,
        default=3,
        help="RecBole epochs to time per thread count; the median is compared (default 3)",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    args = ap.parse_args(argv)
    stores = {"ml100k": ml100k_store, "1m": harness_store}
    thread_counts = [int(t) for t in args.threads.split(",")]
    full = set(args.full_epoch.split(",")) if args.full_epoch else set()
    records = []
    for s in args.stores.split(","):
        path = stores[s]()
        for m in args.models.split(","):
            for t in thread_counts:
                whole = "all" in full or f"{s}:{m}:{t}" in full
                r = run_child(
                    path,
                    m,
                    args.batch_size,
                    args.batches,
                    args.device,
                    t,
                    args.profile if args.device == "cpu" else 0,
                    whole,
                )
                print(json.dumps(r), flush=True)
                records.append(r)
    recbole = {}
    if args.recbole_python and "ml100k" in args.stores.split(","):
        for t in thread_counts:
            recbole[t] = run_recbole(args.recbole_python, t, args.recbole_epochs, args.batch_size)
            print(json.dumps(recbole[t]), flush=True)
    body = table(records, args.batches, recbole)
    if recbole:
        body += (
            "\n\nRecBole's KGAT on the same ML-100K atomic files, in the same run (benchmarks/recbole_kgat_epoch.py: RecBole's own "
            "KGATTrainer epoch, CF phase + KG phase + attention update, its default KGAT settings). Its graph has the side triples "
            "in their stored direction only, ckgrec's kgat in both (KGAT's paper and code), hence fewer edges:\n\n"
            + recbole_table(recbole)
        )
    prof = profile_table(records)
    if prof:
        body += (
            "\n\nWhere the CPU time goes (torch.profiler over "
            f"{args.profile} more steps of each phase; self time per operator, "
            "refresh left out; the profiler's own overhead makes the totals a little larger than the timed ones):\n\n"
            + prof
        )
    body += "\n\n" + targets(records, recbole)
    print(body)
    if not args.no_write:
        from benchmarks.results import update_section

        load = os.getloadavg()[0]
        text = (
            f"Load average {load:.1f} when finished (the machine is shared: times carry noise).\n\n{body}\n\n"
            "One epoch = every CF batch (each re-propagates the whole graph, as KGAT does) + every KG batch + one attention refresh. "
            + (
                "RecBole was timed side by side in this run (table above); the issue's own figure, 9.4 s per epoch on one thread, came from another machine.\n"
                if recbole
                else "RecBole's figure (9.4 s/epoch, KGAT, ML-100K, one thread) was measured by the issue's author on another machine, "
                "not side by side in this run.\n"
            )
        )
        update_section(
            "kg-speed",
            "KG models: seconds per epoch and memory (kgat, dualkgat)",
            " ".join(["python benchmarks/bench_kg_speed.py", *argv]),
            text,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
