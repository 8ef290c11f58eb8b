"""Build at scale: the out-of-core ``ckg build --memory-limit`` on generated inputs of growing size.

A seeded input in the native layout: ``--users`` users, ``--items`` items with power-law
popularity, N interaction rows (like/favorite with timestamps; repeats are left in, the build
folds them), user profiles and three ``--dim``-d modalities for every item that has an
interaction. The generator writes in chunks, so it never holds N rows either. Each size is built
in a child process; we report wall time and peak memory (max RSS of that process, DuckDB
included), per-stage seconds, and, with ``--in-memory``, the same for the in-memory builder. Run:

    nice -n 15 python benchmarks/bench_build_scale.py --sizes 1000000,3000000,10000000 --in-memory 3000000

The section "Build at scale" of ``benchmarks/results/build.md`` is rewritten (the 1M section of
``bench_build.py`` above it is kept).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTION = "## Build at scale"
CHUNK = 1_000_000


def generate(root: Path, n_users: int, n_items: int, n_inter: int, dim: int, seed: int = 0) -> None:
    """The seeded input, written chunk by chunk (the same data for the same arguments)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    pop = rng.permutation(np.arange(1, n_items + 1, dtype=np.float64) ** -0.8)
    pop /= pop.sum()
    seen_items = np.zeros(n_items, dtype=bool)
    seen_users = np.zeros(n_users, dtype=bool)
    with open(root / "interactions.csv", "w") as f:
        f.write("user_id,item_id,behavior,timestamp\n")
        for start in range(0, n_inter, CHUNK):
            m = min(CHUNK, n_inter - start)
            users = rng.integers(0, n_users, m)
            items = rng.choice(n_items, size=m, p=pop)
            seen_users[users] = True
            seen_items[items] = True
            chunk = pd.DataFrame(
                {
                    "user_id": users,
                    "item_id": items,
                    "behavior": np.where(rng.random(m) < 0.2, "favorite", "like"),
                    "timestamp": 1_700_000_000 + rng.integers(0, 90 * 86400, m),
                }
            )
            chunk.to_csv(f, header=False, index=False)
    u = np.flatnonzero(seen_users)
    pd.DataFrame(
        {
            "user_id": u,
            "age": rng.integers(13, 66, len(u)),
            "gender": rng.choice(["F", "M"], len(u)),
            "region": rng.choice([f"r{k}" for k in range(8)], len(u)),
        }
    ).to_csv(root / "users.csv", index=False)
    items = np.flatnonzero(seen_items)
    feats = root / "features"
    feats.mkdir(exist_ok=True)
    for mod in ("visual", "acoustic", "text"):
        np.save(feats / f"{mod}.npy", rng.normal(size=(len(items), dim)).astype(np.float32))
        pd.DataFrame({"item_id": items, "row": np.arange(len(items))}).to_csv(feats / f"{mod}.csv", index=False)


CHILD = (
    "import json, resource, sys, time\n"
    "from ckgrec.kgbuild.build import build\n"
    "raw, store, limit = sys.argv[1], sys.argv[2], sys.argv[3] or None\n"
    "t = time.perf_counter()\n"
    "r = build(raw, store, fmt='native', force=True, memory_limit=limit)\n"
    "wall = time.perf_counter() - t\n"
    "print(json.dumps({'wall': wall, 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
    "'stages': r.seconds, 'counts': r.counts}))\n"
)


def _scratch_bytes(store: Path) -> int:
    """Bytes in the out-of-core build's scratch directories beside ``store`` (database + spill files)."""
    total = 0
    for d in store.parent.glob(f".{store.name}.outofcore.*"):
        for f in d.rglob("*"):
            try:
                total += f.stat().st_size if f.is_file() else 0
            except OSError:  # removed while we look
                pass
    return total


def measure(raw: Path, store: Path, memory_limit: str | None) -> dict | None:
    """Build in a child process: its wall time, max RSS, stages, counts and the scratch disk peak."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(raw), str(store), memory_limit or ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    peak_disk = [0]

    def watch():
        while child.poll() is None:
            peak_disk[0] = max(peak_disk[0], _scratch_bytes(store))
            time.sleep(1.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = child.communicate()
    watcher.join()
    if child.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)
        return None
    res = json.loads(stdout.strip().splitlines()[-1])
    res["scratch_mb"] = peak_disk[0] / 2**20
    return res


ROW_STAGES = ("read", "validate", "interactions", "split", "graphs", "write")  # the stages that grow with rows
TARGET = 100_000_000


def extrapolate(rows: list) -> str:
    """The 100M estimate from the two largest out-of-core runs, the row stages fitted as t ~ n^e."""
    ooc = sorted((n, r) for n, label, _, r in rows if r and label == "out-of-core")
    if len(ooc) < 2:
        return ""
    (n1, r1), (n2, r2) = ooc[-2:]
    t1, t2 = (sum(r["stages"].get(s, 0.0) for s in ROW_STAGES) for r in (r1, r2))
    e = math.log(t2 / t1) / math.log(n2 / n1)
    fixed = sum(v for k, v in r2["stages"].items() if k not in ROW_STAGES)
    t = t2 * (TARGET / n2) ** e + fixed
    return (
        f"\nExtrapolation to {TARGET:,} rows over the same users and items, on paper (not measured): the stages "
        f"that grow with rows ({', '.join(ROW_STAGES)}) took {t1:.0f} s at {n1:,} rows and {t2:.0f} s at {n2:,}, "
        f"i.e. ~n^{e:.2f}; so ~{t:,.0f} s (~{t / 3600:.1f} h) on this machine, with attributes and concepts "
        f"({fixed:.0f} s, fixed by the catalogue). Peak RSS stays ~{r2['rss_mb']:,.0f} MB, since DuckDB spills past "
        f"its limit and Python holds nothing per row; scratch disk grows with rows: "
        f"~{r2['scratch_mb'] * TARGET / n2 / 1024:,.0f} GiB ({r2['scratch_mb']:,.0f} MB at {n2:,}). A catalogue of "
        "millions of items is what would raise memory: items, features and concepts are not out of core.\n"
    )


MODEL = """Memory model of the out-of-core build. DuckDB holds at most `--memory-limit` and spills the rest to a
scratch directory beside the store; what stays in Python grows with users and items, never with rows:

* interpreter, pandas, pyarrow, scikit-learn and DuckDB themselves: ~0.3 GB;
* per item: its ids, `item:` label and index entries (~0.25 KB), its three feature rows (3 x dim x 4 bytes,
  memory-mapped on read; one float32 copy of a modality while it is clustered) and its concept facts
  (3 modalities x `nearest` = 6 facts at ~0.15 KB); per user: ~0.25 KB, plus the profile;
* interactions, pairs, split, train_fraction and the interaction edges: in DuckDB. They leave it in
  2^18-row batches and are written in the writer's 2^20-row row groups (~50 MB at a time).

So peak RSS ~ limit + 0.3 GB + O(users + items), whatever the number of rows. The scratch database
holds the raw rows as text, the pairs and the edges until the build ends ("scratch disk": its peak,
sampled each second)."""


def record(body: str, command: str) -> Path:
    """Rewrite the "Build at scale" section of results/build.md, keeping the sections above it."""
    import datetime as dt
    import fcntl

    from benchmarks.results import RESULTS_DIR, _atomic_write, machine, write_index

    target = RESULTS_DIR / "build.md"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"{SECTION}\n\n- command: `{command}`\n- machine: {machine()}\n- date: {stamp}\n\n{body.strip()}\n"
    with open(RESULTS_DIR / ".lock", "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        old = target.read_text(encoding="utf-8") if target.exists() else ""
        keep = old.split(SECTION)[0].rstrip()
        _atomic_write(target, (keep + "\n\n" if keep else "") + section)
        write_index(RESULTS_DIR)
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=100_000, help="number of users (default 100,000)")
    ap.add_argument("--items", type=int, default=500_000, help="number of items (default 500,000)")
    ap.add_argument("--sizes", default="1000000,3000000", help="interaction rows per input, comma-separated")
    ap.add_argument("--dim", type=int, default=64, help="dimension of each of the three modalities (default 64)")
    ap.add_argument("--memory-limit", default="1.5GB", help="--memory-limit of the out-of-core build (default 1.5GB)")
    ap.add_argument(
        "--in-memory",
        type=int,
        default=0,
        metavar="ROWS",
        help="also build inputs of up to ROWS rows with the in-memory builder, and compare the two stores' files",
    )
    ap.add_argument("--keep", help="keep the generated data and stores under this directory")
    ap.add_argument("--no-record", action="store_true", help="do not write benchmarks/results/")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ckg-bench-scale-"))
    rows, same = [], []
    for n in (int(s) for s in args.sizes.split(",")):
        raw = work / f"raw-{n}"
        if not (raw / "interactions.csv").exists():
            t = time.perf_counter()
            generate(raw, args.users, args.items, n, args.dim)
            print(f"generated {n:,} rows in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        builders = [("out-of-core", args.memory_limit)] + ([("in-memory", None)] if n <= args.in_memory else [])
        files = {}
        for label, limit in builders:
            store = work / f"store-{n}-{label}"
            res = measure(raw, store, limit)
            if res is not None:
                files[label] = json.loads((store / "manifest.json").read_text())["files"]
                print(f"{n:,} {label}: {res['wall']:.0f}s, {res['rss_mb']:.0f} MB", file=sys.stderr)
            shutil.rmtree(store, ignore_errors=True)
            rows.append((n, label, limit, res))
        if len(files) == 2:
            same.append(
                f"{n:,} rows: the two stores' files are {'identical' if files['out-of-core'] == files['in-memory'] else 'DIFFERENT'} (SHA-256 of every file)"
            )
        if not args.keep:
            shutil.rmtree(raw, ignore_errors=True)
    lines = [
        f"Generated input: {args.users:,} users, {args.items:,} items (power-law popularity), like/favorite rows "
        f"with timestamps, profiles with 3 columns, three {args.dim}-d modalities.\n",
        "| rows | builder | memory limit | wall time | peak RSS | scratch disk | rows/s | interactions kept "
        "| triples G_u / G_i |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, label, limit, res in rows:
        if res is None:
            lines.append(f"| {n:,} | {label} | {limit or '-'} | failed | | | | | |")
            continue
        c = res["counts"]
        disk = f"{res['scratch_mb']:,.0f} MB" if limit else "-"
        kept = sum(c["interactions"].values())
        lines.append(
            f"| {n:,} | {label} | {limit or '-'} | {res['wall']:.0f} s | {res['rss_mb']:,.0f} MB "
            f"| {disk} | {n / res['wall']:,.0f} "
            f"| {kept:,} | {c['triples']['user_side']:,} / {c['triples']['item_side']:,} |"
        )
    lines += [f"\n{line}." for line in same]
    lines.append("\nSeconds per stage:\n")
    stages = sorted({k for *_, r in rows if r for k in r["stages"]})
    lines.append("| rows | builder | " + " | ".join(stages) + " |")
    lines.append("|---|---|" + "---|" * len(stages))
    for n, label, _, res in rows:
        if res:
            lines.append(f"| {n:,} | {label} | " + " | ".join(f"{res['stages'].get(s, 0):.1f}" for s in stages) + " |")
    body = "\n".join(lines) + "\n\n" + MODEL + "\n" + extrapolate(rows)
    print(body)
    if not args.no_record:
        record(body, "nice -n 15 python benchmarks/bench_build_scale.py " + " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
