"""Build benchmark: ``ckg build`` on a generated 1M-interaction dataset.

50,000 users, 100,000 items, 1,000,000 interactions (like/favorite with timestamps), user
profiles, three 128-d modalities. Measures wall time, peak memory (max RSS of the build
process) and interactions/s, and records seconds per build stage. Run:

    python benchmarks/bench_build.py [--interactions 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def generate(root: Path, n_users: int, n_items: int, n_inter: int, dim: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    pop = rng.permutation(np.arange(1, n_items + 1, dtype=np.float64) ** -0.8)  # power-law popularity
    pop /= pop.sum()
    users = rng.integers(0, n_users, n_inter)
    items = rng.choice(n_items, size=n_inter, p=pop)
    behavior = np.where(rng.random(n_inter) < 0.2, "favorite", "like")
    ts = 1_700_000_000 + rng.integers(0, 90 * 86400, n_inter)
    pd.DataFrame({"user_id": users, "item_id": items, "behavior": behavior, "timestamp": ts}).drop_duplicates(
        ["user_id", "item_id", "behavior"]
    ).to_csv(root / "interactions.csv", index=False)
    seen_users = np.unique(users)
    pd.DataFrame(
        {
            "user_id": seen_users,
            "age": rng.integers(13, 66, len(seen_users)),
            "gender": rng.choice(["F", "M"], len(seen_users)),
            "region": rng.choice([f"r{k}" for k in range(8)], len(seen_users)),
        }
    ).to_csv(root / "users.csv", index=False)
    seen_items = np.unique(items)
    feats = root / "features"
    feats.mkdir(exist_ok=True)
    for m in ("visual", "acoustic", "text"):
        np.save(feats / f"{m}.npy", rng.normal(size=(len(seen_items), dim)).astype(np.float32))
        pd.DataFrame({"item_id": seen_items, "row": np.arange(len(seen_items))}).to_csv(feats / f"{m}.csv", index=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=50_000, help="number of users (default 50,000)")
    ap.add_argument("--items", type=int, default=100_000, help="number of items (default 100,000)")
    ap.add_argument("--interactions", type=int, default=1_000_000, help="interaction rows drawn (default 1,000,000)")
    ap.add_argument("--dim", type=int, default=128, help="dimension of each of the three modalities (default 128)")
    ap.add_argument("--keep", help="keep the generated data and store under this directory")
    ap.add_argument("--no-record", action="store_true", help="do not write benchmarks/results/")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ckg-bench-build-"))
    raw, store = work / "raw", work / "store"
    if not (raw / "interactions.csv").exists():
        t = time.perf_counter()
        generate(raw, args.users, args.items, args.interactions, args.dim)
        print(f"generated raw data in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    code = (
        "import json, resource, time, sys\n"
        "from kgbuild.build import build\n"
        "t = time.perf_counter()\n"
        f"r = build({str(raw)!r}, {str(store)!r}, fmt='native', force=True)\n"
        "wall = time.perf_counter() - t\n"
        "print(json.dumps({'wall': wall, 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
        "'stages': r.seconds, 'counts': r.counts}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return 1
    res = json.loads(out.stdout.strip().splitlines()[-1])
    n_rows = sum(res["counts"]["interactions"].values())
    rate = n_rows / res["wall"]
    stages = sorted(res["stages"].items(), key=lambda kv: -kv[1])
    body = (
        f"Generated data: {res['counts']['users']:,} users, {res['counts']['items']:,} items, {n_rows:,} interaction rows "
        f"(after dedup), three {args.dim}-d modalities, profiles with 3 columns.\n\n"
        "| wall time | peak memory (max RSS) | interactions/s | triples G_u / G_i |\n|---|---|---|---|\n"
        f"| {res['wall']:.1f} s | {res['rss_mb']:.0f} MB | {rate:,.0f} | {res['counts']['triples']['user_side']:,} / {res['counts']['triples']['item_side']:,} |\n\n"
        "Where the time goes (seconds per stage):\n\n| stage | s |\n|---|---|\n"
        + "".join(f"| {k} | {v:.2f} |\n" for k, v in stages)
    )
    print(body)
    if not args.no_record:
        from benchmarks.results import update_section

        update_section("build", "Build: `ckg build` on 1M interactions", "python benchmarks/bench_build.py", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
