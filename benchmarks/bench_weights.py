"""Interaction weights (issue 21): the relations and confidences the builder produces, and what a
many-level weight column costs kgat and dualkgat before and after.

Part 1 builds, with this checkout, four sources and tabulates how the rating column was read, the
interaction relations, the confidences and the split:

* ML-100K (``../shared/datasets/ml-100k``, skipped when absent): 1-5 stars;
* the embedded data (``data/``): like / favorite behaviours, no rating column;
* ``playcount``: the embedded data plus a ``rating`` column of random integer play counts drawn
  uniformly from 1..10^5 (seed 0) -- a weight with ~30,000 distinct levels;
* ``mmrec``: a generated MMRec-layout folder (``baby.inter`` with x_label, image/text
  ``_feat.npy``), built with its given split.

Part 2 trains ``kgat`` and ``dualkgat`` on the playcount store for a few epochs, once with the
code of ``--before`` (a clean checkout of the previous commit, e.g. made by
``git worktree add /tmp/before HEAD``; its builder turns every play count into a relation) and
once with this checkout, each build and training in a process of its own. Reported: median
seconds per training epoch (sampling + training, from ``metrics.jsonl``), peak RSS of the
training process, the size of ``best.pt`` and the exit status. Run:

    python benchmarks/bench_weights.py --before /tmp/before [--epochs 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
MODELS = ("kgat", "dualkgat")

# Runs ``ckg`` with the packages of another checkout: the editable install maps ckgrec.* to this
# one, so its finder is removed and ``ckgrec`` is loaded from the other tree, whose
# kgbuild/, model/ and schemas/ folders sit beside ckgrec/ as in setup.py's mapping.
BOOT = r"""
import importlib.util, sys
root = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.path.insert(0, root)
spec = importlib.util.spec_from_file_location("ckgrec", root + "/ckgrec/__init__.py", submodule_search_locations=[root + "/ckgrec", root])
mod = importlib.util.module_from_spec(spec)
sys.modules["ckgrec"] = mod
spec.loader.exec_module(mod)
import ckgrec.kgbuild, ckgrec.model
assert ckgrec.kgbuild.__file__.startswith(root) and ckgrec.model.__file__.startswith(root), "wrong checkout"
from ckgrec.cli import main
sys.exit(main(sys.argv[1:]))
"""


def make_playcount(work: Path, seed: int = 0) -> Path:
    root = work / "playcount"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(ROOT / "data", root, ignore=shutil.ignore_patterns("*.py", "*.md"))
    inter = pd.read_csv(root / "interactions.csv", dtype=str)
    inter["rating"] = np.random.default_rng(seed).integers(1, 100_001, len(inter)).astype(str)
    inter.to_csv(root / "interactions.csv", index=False)
    return root


def make_mmrec(work: Path, n_users: int = 300, n_items: int = 400, per_user: int = 10, seed: int = 0) -> Path:
    root = work / "mmrec" / "baby"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    lines = []
    labels = [0] * (per_user - 2) + [1, 2]  # MMRec's 8:1:1 per user
    for u in range(n_users):
        for k, i in enumerate(rng.choice(n_items, per_user, replace=False)):
            lines.append(f"{u}\t{i}\t{rng.integers(1, 6)}.0\t{1_400_000_000 + 1000 * u + k}\t{labels[k]}")
    (root / "baby.inter").write_text("userID\titemID\trating\ttimestamp\tx_label\n" + "\n".join(lines) + "\n")
    np.save(root / "image_feat.npy", rng.normal(size=(n_items, 32)).astype(np.float32))
    np.save(root / "text_feat.npy", rng.normal(size=(n_items, 24)).astype(np.float32))
    return root


def describe(store_path: Path) -> dict:
    from ckgrec.schemas.store import Store

    s = Store.open(store_path)
    t = s.table("interactions")
    names = s.counts["interaction_relations"]
    conf = t["confidence"].to_numpy(np.float64)
    w = s.manifest.get("interaction_weights")
    split = s.manifest["split"]
    return {
        "read as": f"{w['mode']} ({w['reason']})" if w else "behaviours (no rating column)",
        "relations": f"{len(names):,}: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}",
        "confidence": (w["scale"] if w else "per behaviour")
        + f"; min {conf.min():.3f} / median {np.median(conf):.3f} / max {conf.max():.3f}"
        + (
            f"; {', '.join(f'{r} {c:.2f}' for r, c in t.groupby('relation')['confidence'].first().items())}"
            if len(names) <= 5 and not w or (w and w["mode"] == "levels")
            else ""
        ),
        "split": split["method"]
        + (f" ({split['origin'].split(' of ')[0]}; valid {split['valid']})" if split["method"] == "given" else ""),
        "pairs train/valid/test": "/".join(f"{s.counts['pairs'][k]:,}" for k in ("train", "valid", "test")),
    }


def run_ckg(checkout: Path | None, args: list[str], log: Path) -> tuple[int, float, float]:
    """(exit status, wall seconds, peak RSS MiB) of one ``ckg`` process."""
    cmd = (
        [sys.executable, "-c", BOOT, str(checkout), *args] if checkout else [sys.executable, "-m", "ckgrec.cli", *args]
    )
    if checkout is None:
        cmd = [sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main(sys.argv[1:]))", *args]
    start = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=str(checkout or ROOT))
        _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss / 1024


def train_side(label: str, checkout: Path | None, source: Path, work: Path, epochs: int, threads: int) -> list[dict]:
    out = work / label
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rc, secs, _ = run_ckg(checkout, ["build", str(source), "--out", str(out / "store"), "--quiet"], out / "build.log")
    if rc != 0:
        raise SystemExit(f"{label}: build failed, see {out / 'build.log'}")
    rows = []
    from ckgrec.schemas.store import Store

    n_rel = len(Store.open(out / "store").counts["interaction_relations"])
    for model in MODELS:
        run = out / f"run-{model}"
        rc, wall, rss = run_ckg(
            checkout,
            [
                "train",
                str(out / "store"),
                "--model",
                model,
                "--out",
                str(run),
                "--epochs",
                str(epochs),
                "--patience",
                "0",
                "--valid-users",
                "200",
                "--threads",
                str(threads),
                "--device",
                "cpu",
                "--quiet",
            ],
            out / f"train-{model}.log",
        )
        epochs_s = (
            [
                r["seconds_sample"] + r["seconds_train"]
                for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
            ]
            if (run / "metrics.jsonl").exists()
            else []
        )
        best = run / "best.pt"
        rows.append(
            {
                "code": label,
                "model": model,
                "interaction relations": f"{n_rel:,}",
                "s/epoch (median)": f"{np.median(epochs_s):.1f}" if epochs_s else "-",
                "epochs run": len(epochs_s),
                "peak RSS MiB": f"{rss:,.0f}",
                "best.pt MiB": f"{best.stat().st_size / 2**20:,.1f}" if best.exists() else "-",
                "exit": rc,
                "wall s": f"{wall:.0f}",
            }
        )
        print(rows[-1], flush=True)
    return rows


def table(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--before", type=Path, help="clean checkout of the code to compare with (omit to skip part 2's 'before')"
    )
    ap.add_argument("--epochs", type=int, default=2, help="training epochs per model (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "weights", help="scratch directory")
    ap.add_argument("--skip-training", action="store_true", help="part 1 only")
    ap.add_argument("--no-record", action="store_true", help="do not write benchmarks/results/")
    args = ap.parse_args()
    import warnings

    from ckgrec.kgbuild.build import build

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    sources = {
        "ML-100K ratings": SHARED / "ml-100k",
        "embedded behaviours": ROOT / "data",
        "play counts (1..10^5)": make_playcount(work),
        "MMRec layout, given split": make_mmrec(work),
    }
    built_rows = []
    for name, src in sources.items():
        if not src.exists():
            print(f"skipping {name}: {src} not present", flush=True)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store = build(src, work / "stores" / name.split()[0].lower(), force=True).store
        built_rows.append({"source": name, **describe(store)})
        print(built_rows[-1], flush=True)
    body = "### Relations and confidences\n\n" + table(built_rows)
    if not args.skip_training:
        rows = []
        if args.before:
            rows += train_side(
                "before", args.before.resolve(), sources["play counts (1..10^5)"], work, args.epochs, args.threads
            )
        rows += train_side("after", None, sources["play counts (1..10^5)"], work, args.epochs, args.threads)
        body += (
            f"\n\n### kgat and dualkgat on the play-count data, {args.epochs} epochs, {args.threads} threads, CPU\n\n"
            + table(rows)
        )
    print(body)
    if not args.no_record:
        from benchmarks.results import update_section

        cmd = (
            "python benchmarks/bench_weights.py"
            + (f" --before {args.before}" if args.before else "")
            + f" --epochs {args.epochs} --threads {args.threads}"
        )
        update_section("weights", "Interaction weights: relations, confidences, and their training cost", cmd, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
