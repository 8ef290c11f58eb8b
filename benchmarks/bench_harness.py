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

A second table times the evaluation alone (``evaluate`` on the validation split of all 50k users
against all items, an untrained BPR-MF whose embeddings are seeded, so every code scores the same
matrix) for each ``--eval-threads`` count, with its peak memory and whether its metrics are
identical to those of the ``--before`` code. ``--before DIR`` (a clean checkout of the code before
a change, e.g. ``git worktree add /tmp/before HEAD``) runs every row with that code too, side by side.

``--convergence`` adds LightGCN on ML-100K trained to convergence (patience 30, at most 800
epochs, one thread) at the paper's batch 2048 / lr 1e-3 with the ``--before`` code and at the
current defaults, for each ``--seeds``: best validation Recall@20, the epoch and the seconds
(sampling + training + validation) it took to reach it, and the test figures of that state. Run
directories go to benchmarks/work/ml100k-lg/runs/ and are reused when they hold scores.json.

    python benchmarks/bench_harness.py                     # full run, writes RESULTS.md
    python benchmarks/bench_harness.py --before /tmp/before --work benchmarks/work/harness   # old and new rows
    python benchmarks/bench_harness.py --users 5000 --items 10000 --pairs 100000 --no-write   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
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


def generate(out: Path, n_users: int, n_items: int, n_pairs: int, seed: int = 0, feature_dim: int = 0) -> Path:
    """interactions.csv (user_id,item_id) with about ``n_pairs`` distinct pairs; with ``feature_dim`` > 0
    also features/visual.npy + visual.csv, one row per item that has a pair: its taste cluster's centre
    plus as much noise (float32, ``feature_dim`` columns), so that feature models (freedom) can run."""
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
    if feature_dim > 0:
        present = np.unique(df["item_id"].to_numpy())
        centres = rng.normal(size=(clusters, feature_dim))
        vectors = centres[item_cluster[present]] + rng.normal(size=(len(present), feature_dim))
        (out / "features").mkdir(exist_ok=True)
        np.save(out / "features" / "visual.npy", vectors.astype(np.float32))
        pd.DataFrame({"item_id": present, "row": np.arange(len(present))}).to_csv(
            out / "features" / "visual.csv", index=False
        )
    return out


BOOT = r"""
import importlib.util, sys
root = {root!r}
if {checkout!r}:  # import ckgrec from that checkout, not from the editable install
    sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
    sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location(
        "ckgrec", root + "/ckgrec/__init__.py", submodule_search_locations=[root + "/ckgrec", root]
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ckgrec"] = mod
    spec.loader.exec_module(mod)
    import ckgrec.model
    assert ckgrec.model.__file__.startswith(root), "wrong checkout"
else:
    sys.path.insert(0, root)
"""

CHILD = r"""
import json, resource, sys, time
import torch
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.evaluator import evaluate
from ckgrec.model.models.registry import get_model
from ckgrec.model.training.sampler import BPRSampler
from ckgrec.model.training.trainer import make_optimizer
from ckgrec.schemas.store import Store

name, store, max_batches, threads, dev = {name!r}, {store!r}, {max_batches!r}, {threads!r}, torch.device({device!r})
if threads:
    torch.set_num_threads(threads)
torch.manual_seed(0)


def clock():
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


t0 = clock()
data = TrainData.from_store(Store.open(store))
cls = get_model(name)
tc = TrainConfig().resolved(cls)
model = cls.build(data, cls.Config(), dev)
if cls.trainable:  # built once per run, as the trainer does: not part of an epoch
    opt = make_optimizer("adam", model.parameters(), tc.lr)
    sampler = BPRSampler(data.train, tc.num_negatives)
rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t1 = clock()
if cls.trainable:
    gen = torch.Generator().manual_seed(0)
    model.on_epoch_start(1, gen)
    drawn = sampler.draw_epoch(gen)
    t2 = t_sampled = clock()
    n_batches = sampler.num_batches(tc.batch_size)
    done = 0
    model.train()
    warm_up = n_batches > 1  # the first step builds lazy caches (adjacency, CSR): timed only if it is the epoch
    for batch in sampler.split(drawn, tc.batch_size):
        batch = batch.to(dev)
        opt.zero_grad(set_to_none=True)
        loss, _ = model.objective(batch, tc.l2)
        loss.backward()
        opt.step()
        if warm_up:
            warm_up = False
            t2 = clock()
            continue
        done += 1
        if max_batches and done >= max_batches:
            break
    t3 = clock()
    train_s = (t3 - t2) * n_batches / done
else:  # a closed form: its one fit is the "epoch"
    t2 = t_sampled = clock()
    model.fit_closed_form(data)
    t3 = clock()
    n_batches = done = 0
    train_s = t3 - t2
res = evaluate(model, data, "valid", tc.ks)
t4 = clock()
print(json.dumps(dict(
    model=name, trainable=cls.trainable, threads=torch.get_num_threads(), batch_size=tc.batch_size, batches=n_batches, batches_timed=done,
    extrapolated=done < n_batches, load_s=t1 - t0, sample_s=t_sampled - t1, train_s=train_s, eval_s=t4 - t3,
    eval_users=res.n_users, recall20=res.metrics.get("recall@20"), lr=tc.lr,
    peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, peak_rss_load_mib=rss_load,
    train_pairs=int(data.train.nnz), n_users=data.n_users, n_items=data.n_items, device=str(dev),
    peak_gpu_mib=torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None,
)))
"""


EVAL_CHILD = r"""
import json, resource, sys, time
import torch
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.evaluator import evaluate
from ckgrec.model.models.registry import get_model
from ckgrec.schemas.store import Store

store, threads, dev = {store!r}, {threads!r}, torch.device({device!r})
torch.set_num_threads(threads)
torch.manual_seed(0)
data = TrainData.from_store(Store.open(store))
cls = get_model("bprmf")
model = cls.build(data, cls.Config(), torch.device("cpu")).to(dev)  # CPU init: the same weights on every device
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if dev.type == "cuda":
    torch.cuda.synchronize()
t0, c0 = time.perf_counter(), time.process_time()
res = evaluate(model, data, "valid", (10, 20))
if dev.type == "cuda":
    torch.cuda.synchronize()
t1, c1 = time.perf_counter(), time.process_time()
print(json.dumps(dict(
    threads=torch.get_num_threads(), eval_s=t1 - t0, eval_cpu_s=c1 - c0, eval_users=res.n_users, n_items=data.n_items,
    peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, peak_rss_before_mib=rss_before,
    metrics=res.metrics, per_user_recall20_sum=float(res.per_user["recall@20"].sum()), device=str(dev),
    peak_gpu_mib=torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None,
)))
"""


def _run(code: str, what: str, checkout: Path | None) -> dict:
    boot = BOOT.format(root=str(checkout or ROOT), checkout=bool(checkout))
    out = subprocess.run([sys.executable, "-c", boot + code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{what} benchmark failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_child(
    name: str,
    store: Path,
    max_batches: int,
    threads: int,
    checkout: Path | None = None,
    label: str = "after",
    device: str = "cpu",
) -> dict:
    code = CHILD.format(name=name, store=str(store), max_batches=max_batches, threads=threads, device=device)
    return {**_run(code, name, checkout), "code": label}


def run_eval_child(
    store: Path, threads: int, checkout: Path | None = None, label: str = "after", device: str = "cpu"
) -> dict:
    code = EVAL_CHILD.format(store=str(store), threads=threads, device=device)
    return {**_run(code, "evaluation", checkout), "code": label}


ML100K = ROOT.parent / "shared" / "datasets" / "ml-100k-recbole"
CONVERGENCE = ROOT / "benchmarks" / "work" / "ml100k-lg"
BOOT_CLI = BOOT + "from ckgrec.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _ckg(checkout: Path | None, args: list[str], log: Path) -> None:
    code = BOOT_CLI.format(root=str(checkout or ROOT), checkout=bool(checkout))
    with open(log, "w") as fh:
        rc = subprocess.run([sys.executable, "-c", code, *args], stdout=fh, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise RuntimeError(f"ckg {' '.join(args[:2])} failed, see {log}")


def convergence_runs(before: Path | None, after: Path | None, seeds: list[int]) -> list[dict]:
    """LightGCN on ML-100K to convergence: the paper's batch/lr (old defaults) vs the current defaults."""
    store = CONVERGENCE / "store"
    CONVERGENCE.mkdir(parents=True, exist_ok=True)
    if not (store / "manifest.json").is_file():
        _ckg(after, ["build", str(ML100K), "--out", str(store), "--quiet"], CONVERGENCE / "build.log")
    settings = [
        ("old defaults (batch 2048, lr 1e-3)", "old-b2048-lr1e-3", before, ["--batch-size", "2048", "--lr", "1e-3"])
    ]
    settings.append(("new defaults", "new-defaults", after, []))
    out = []
    for label, name, checkout, flags in settings:
        for seed in seeds:
            run = CONVERGENCE / "runs" / (name if seed == 2020 else f"{name}-s{seed}")
            if not (run / "scores.json").is_file():
                args = ["train", str(store), "--model", "lightgcn", "--out", str(run), "--seed", str(seed), *flags]
                args += ["--epochs", "800", "--patience", "30", "--threads", "1", "--force", "--quiet"]
                _ckg(checkout, args, run.with_suffix(".log"))
            rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            best = max(rows, key=lambda r: r["valid"]["recall@20"])
            to_best = sum(
                r["seconds_sample"] + r["seconds_train"] + r["seconds_eval"] for r in rows[: rows.index(best) + 1]
            )
            epoch_s = sorted(r["seconds_sample"] + r["seconds_train"] for r in rows)
            tc = json.loads((run / "config.json").read_text())["train"]
            test = json.loads((run / "scores.json").read_text())["test"]
            out.append(
                dict(
                    label=label,
                    run=run.name,
                    seed=tc["seed"],
                    batch=tc["batch_size"],
                    lr=tc["lr"],
                    epochs=len(rows),
                    best_epoch=best["epoch"],
                    valid_r20=best["valid"]["recall@20"],
                    to_best_s=to_best,
                    epoch_s=epoch_s[len(epoch_s) // 2],
                    test_r20=test["recall@20"],
                    test_n20=test["ndcg@20"],
                )
            )
            print(json.dumps(out[-1]), flush=True)
    return out


def convergence_table(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "LightGCN on ML-100K trained to convergence (early stopping on validation Recall@20, patience 30, at most 800 "
        "epochs, one thread, full ranking): does the new default lose validation Recall@20, and how long does it take "
        "to reach its best? 'to best s' = sampling + training + validation seconds up to the best epoch (the machine "
        "is shared: seconds are noisy, epochs are not).",
        "",
        "| setting | seed | batch | lr | epochs run | best epoch | best valid recall@20 | to best s | s/epoch (median) | test recall@20 | test ndcg@20 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['seed']} | {r['batch']} | {r['lr']:g} | {r['epochs']} | {r['best_epoch']} | "
            f"{r['valid_r20']:.4f} | {r['to_best_s']:.0f} | {r['epoch_s']:.2f} | {r['test_r20']:.4f} | {r['test_n20']:.4f} |"
        )
    return lines


def measure_1m(args) -> str:
    """The 1M rows: generate/build the store, run every model and evaluation child, return the tables."""
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
        after = args.after.resolve() if args.after else None
        codes = [args.before.resolve(), after] if args.before else [after]
        labels = ["before", "after"] if args.before else ["after"]
        rows = []
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            for checkout, label in zip(codes, labels):
                r = run_child(name, store, args.max_batches, args.threads, checkout, label)
                print(json.dumps(r), flush=True)
                rows.append(r)
        evals = []
        for threads in [int(t) for t in args.eval_threads.split(",") if t.strip()]:
            for checkout, label in zip(codes, labels):
                r = run_eval_child(store, threads, checkout, label)
                print(json.dumps(r), flush=True)
                evals.append(r)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    r0 = rows[0] if rows else {"n_users": evals[0]["eval_users"], "n_items": evals[0]["n_items"], "train_pairs": 0}
    lines = [
        f"Generated store: {r0['n_users']:,} users x {r0['n_items']:,} items, {r0['train_pairs']:,} training pairs "
        f"({args.pairs:,} pairs before the 8:1:1 split); "
        + (
            f"generation {gen_s:.0f}s, `ckg build` {build_s:.0f}s. "
            if gen_s == gen_s and build_s == build_s
            else "the store was reused from --work, its generation and build not timed by this run. "
        )
        + f"CPU only, {args.threads} torch thread(s) for the model rows, each model in its own process. "
        f"Load average {os.getloadavg()[0]:.1f} when finished (the 2 cores are shared with other jobs).",
        "",
        "| model | code | batch | lr | batches/epoch | load s | sample s | train s | epoch s (sample+train) | sampling share | valid eval s | eval users | eval / epoch | peak RSS MiB (after load) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        epoch = r["sample_s"] + r["train_s"]
        note = f" (extrapolated from {r['batches_timed']})" if r["extrapolated"] else ""
        lines.append(
            f"| {r['model']} | {r['code']} | {r['batch_size']} | {r.get('lr', float('nan')):g} | {r['batches']}{note} | {r['load_s']:.1f} | {r['sample_s']:.2f} | {r['train_s']:.1f} | "
            f"{epoch:.1f} | {100 * r['sample_s'] / epoch:.1f}% | {r['eval_s']:.1f} | {r['eval_users']:,} | {r['eval_s'] / epoch:.2f} | {r['peak_rss_mib']:.0f} ({r['peak_rss_load_mib']:.0f}) |"
        )
    if evals:
        before = {e["threads"]: e for e in evals if e["code"] == "before"}
        lines += [
            "",
            f"Evaluation alone: `evaluate(model, data, 'valid')`, {evals[0]['eval_users']:,} users x "
            f"{evals[0]['n_items']:,} items, K = 10, 20, an untrained seeded BPR-MF (the same score matrix for every "
            "code); peak RSS of the process, and how much the evaluation added to it.",
            "",
            "| code | threads | eval s (wall) | CPU s | speed-up vs before (wall) | peak RSS MiB | added by eval MiB | recall@20 | ndcg@20 | metrics identical to before |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for e in evals:
            b = before.get(e["threads"])
            speedup = f"{b['eval_s'] / e['eval_s']:.2f}x" if b and e["code"] != "before" else "–"
            same = "–" if not b or e["code"] == "before" else ("yes" if e["metrics"] == b["metrics"] else "NO")
            lines.append(
                f"| {e['code']} | {e['threads']} | {e['eval_s']:.1f} | "
                + (f"{e['eval_cpu_s']:.1f}" if "eval_cpu_s" in e else "–")
                + f" | {speedup} | {e['peak_rss_mib']:.0f} | "
                f"{e['peak_rss_mib'] - e['peak_rss_before_mib']:.0f} | {e['metrics']['recall@20']:.6f} | "
                f"{e['metrics']['ndcg@20']:.6f} | {same} |"
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
    return "\n".join(lines)


CONVERGENCE_MARK = "LightGCN on ML-100K trained to convergence"


def previous_1m_body() -> str:
    """The 1M tables of the current results file (its body without the title, command lines or convergence part)."""
    from benchmarks.results import section_path

    text = section_path("harness-speed").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("- date: ")) + 1
    body = "\n".join(lines[start:]).strip()
    return body.split(CONVERGENCE_MARK)[0].rstrip()


def previous_convergence_part() -> str:
    """The convergence table of the current results file with the command and date of the run that wrote it
    ("" when it has none), so a 1M-only run can keep it without claiming it."""
    from benchmarks.results import section_path

    text = section_path("harness-speed").read_text(encoding="utf-8")
    if CONVERGENCE_MARK not in text:
        return ""
    head = {
        k: v
        for k, v in (
            line[2:].split(": ", 1) for line in text.splitlines() if line.startswith(("- command: ", "- date: "))
        )
    }
    part = CONVERGENCE_MARK + text.split(CONVERGENCE_MARK, 1)[1].rstrip()
    return f"The convergence table below is kept from the earlier run {head.get('command', '?')} of {head.get('date', '?')}:\n\n{part}"


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
    ap.add_argument(
        "--before",
        type=Path,
        help="clean checkout of the code before a change: run every row with it too, side by side",
    )
    ap.add_argument(
        "--after",
        type=Path,
        help="checkout of the code after the change (default: this repository, through its editable install)",
    )
    ap.add_argument(
        "--eval-threads",
        default="1,2",
        help="torch thread counts of the evaluation-only table (default 1,2; empty = no such table)",
    )
    ap.add_argument(
        "--convergence", action="store_true", help="also LightGCN on ML-100K to convergence, old vs new defaults"
    )
    ap.add_argument("--seeds", default="2020,2021", help="seeds of --convergence (default 2020,2021)")
    ap.add_argument(
        "--only-convergence",
        action="store_true",
        help="with --convergence: skip the 1M rows and keep those of the current results file",
    )
    ap.add_argument(
        "--keep-convergence",
        action="store_true",
        help="without --convergence: keep the convergence table of the current results file, labelled with its run",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    args = ap.parse_args(argv)

    kept = previous_convergence_part() if args.keep_convergence and not args.convergence else ""
    if args.only_convergence:
        body = previous_1m_body()
    else:
        body = measure_1m(args)
    if args.convergence:
        after = args.after.resolve() if args.after else None
        seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
        body += "\n" + "\n".join(convergence_table(convergence_runs(args.before, after, seeds)))
    if kept:
        body += "\n\n" + kept
    print("\n" + body)
    if not args.no_write:
        from benchmarks.results import update_section

        cmd = (
            "python benchmarks/bench_harness.py"
            + (f" --max-batches {args.max_batches}" if args.max_batches else "")
            + (f" --threads {args.threads}" if args.threads != 1 else "")
            + (f" --before {args.before}" if args.before else "")
            + (f" --after {args.after}" if args.after else "")
            + (f" --eval-threads {args.eval_threads}" if args.eval_threads != "1,2" else "")
            + (
                " --convergence" + (f" --seeds {args.seeds}" if args.seeds != "2020,2021" else "")
                if args.convergence
                else ""
            )
            + (" --only-convergence" if args.only_convergence else "")
            + (" --keep-convergence" if kept else "")
        )
        update_section(
            "harness-speed",
            "Harness speed and memory: BPR-MF, LightGCN and evaluation, 50k x 100k x 1M (CPU)",
            cmd,
            body,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
