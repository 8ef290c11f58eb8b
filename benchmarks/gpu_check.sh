#!/usr/bin/env bash
# GPU checks (issue 22): the CUDA tests and the 1M-interaction timings on cuda, in one run of < 8 minutes.
#
#   bash benchmarks/gpu_check.sh            # from any directory; uses .venv when the repository has one
#
# 1. `pytest -m gpu`: every test marked `gpu` (pyproject's marker) -- CPU/CUDA agreement of the
#    Bi-Interaction layer, dualkgat, every model's figures, the trainer, TransR pretraining, the
#    evaluator's top-K and LightGCN's batch loss on cuda. Limited to 240 s.
# 2. On the generated 50k users x 100k items x 1M pairs store of benchmarks/bench_harness.py
#    (built first when benchmarks/work/harness/store is absent, ~2 minutes): kgat and dualkgat
#    seconds per epoch (5 timed CF and KG batches, extrapolated; benchmarks/bench_kg_speed.py),
#    one whole LightGCN epoch at its defaults, and one full-ranking evaluation of all validation
#    users against all items (benchmarks/bench_harness.py), each in its own process on cuda.
# 3. Writes benchmarks/results/gpu.md (the "GPU" section, with the device name) through
#    benchmarks/results.py, and exits non-zero when a test failed.
#
# Without a CUDA device it stops at once with exit status 3 and a message saying so; nothing is written.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
    # shellcheck disable=SC1091
    . .venv/bin/activate
fi
PY=${PYTHON:-python}
start=$(date +%s)

if ! $PY - <<'EOF'
import sys

import torch

if not torch.cuda.is_available():
    print(
        f"gpu_check: no CUDA device: torch {torch.__version__} (built for CUDA {torch.version.cuda}) "
        "reports torch.cuda.is_available() == False. Nothing was run or written.",
        file=sys.stderr,
    )
    sys.exit(3)
print(f"gpu_check: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
EOF
then
    exit 3
fi

mkdir -p benchmarks/work
tests_log=benchmarks/work/gpu_check_pytest.log
set +e
timeout 240 $PY -m pytest -q -m gpu -p no:cacheprovider -rs >"$tests_log" 2>&1
tests_rc=$?
set -e
tail -n 15 "$tests_log"
echo "gpu_check: pytest -m gpu exit status $tests_rc ($(($(date +%s) - start)) s so far)"

TESTS_RC=$tests_rc TESTS_LOG=$tests_log $PY - <<'EOF'
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path.cwd()))
from benchmarks import bench_harness, bench_kg_speed  # noqa: E402
from benchmarks.results import update_section  # noqa: E402

t0 = time.perf_counter()
device = "cuda"
name = torch.cuda.get_device_name(0)
store = bench_kg_speed.WORK / "harness" / "store"  # the store bench_harness.py and bench_kg_speed.py share
if not (store / "manifest.json").is_file():  # generate and build it (~2 minutes), nothing else
    from ckgrec.kgbuild.build import build

    bench_harness.generate(store.parent / "raw", 50_000, 100_000, 1_000_000)
    build(store.parent / "raw", store, fmt="native", force=True)
threads = min(8, os.cpu_count() or 1)
kg = [bench_kg_speed.run_child(store, m, 2048, 5, device, threads, 0, False) for m in ("kgat", "dualkgat")]
for r in kg:
    print(json.dumps(r), flush=True)
lg = bench_harness.run_child("lightgcn", store, 0, threads, None, "after", device)
print(json.dumps(lg), flush=True)
ev = bench_harness.run_eval_child(store, threads, None, "after", device)
print(json.dumps(ev), flush=True)

rc = int(os.environ["TESTS_RC"])
log = Path(os.environ["TESTS_LOG"]).read_text(errors="replace").strip().splitlines()
summary = log[-1] if log else "(no output)"
status = "passed" if rc == 0 else ("timed out after 240 s" if rc == 124 else f"FAILED (exit status {rc})")
lines = [
    f"Device: **{name}** (torch {torch.__version__}, CUDA {torch.version.cuda}), {threads} CPU threads for the host side. "
    "Written by `benchmarks/gpu_check.sh`.",
    "",
    f"CUDA tests (`pytest -m gpu`): {status} -- `{summary}`",
    "",
    f"1M store: {lg['n_users']:,} users x {lg['n_items']:,} items, {lg['train_pairs']:,} training pairs.",
    "",
    "| what | batch | batches/epoch | s/epoch (wall) | timed | peak GPU MiB | peak RSS MiB |",
    "|---|---|---|---|---|---|---|",
]
for r in kg:
    lines.append(
        f"| {r['model']} epoch (CF + KG + refresh) | {r['batch_size']} | {r['cf_batches']} CF + {r['kg_batches']} KG | "
        f"{r['epoch_wall_s']:.1f} | 5 batches per phase, extrapolated | {r.get('peak_cuda_mib', float('nan')):.0f} | "
        f"{r['peak_rss_mib']:.0f} |"
    )
epoch = lg["sample_s"] + lg["train_s"]
lines.append(
    f"| lightgcn epoch (defaults, lr {lg['lr']:g}) | {lg['batch_size']} | {lg['batches']} | {epoch:.1f} | whole epoch | "
    f"{lg['peak_gpu_mib']:.0f} | {lg['peak_rss_mib']:.0f} |"
)
lines.append(
    f"| full-ranking evaluation, {ev['eval_users']:,} users x {ev['n_items']:,} items | – | – | {ev['eval_s']:.1f} | "
    f"one pass (recall@20 {ev['metrics']['recall@20']:.6f}, untrained seeded BPR-MF) | {ev['peak_gpu_mib']:.0f} | "
    f"{ev['peak_rss_mib']:.0f} |"
)
lines += ["", f"Timings took {time.perf_counter() - t0:.0f} s including the store build when it was absent."]
path = update_section("gpu", f"GPU: CUDA tests and 1M timings ({name})", "bash benchmarks/gpu_check.sh", "\n".join(lines))
print("\n".join(lines))
print(f"gpu_check: wrote {path}")
EOF

echo "gpu_check: done in $(($(date +%s) - start)) s"
if [ "$tests_rc" -ne 0 ]; then
    echo "gpu_check: the CUDA tests did not pass (see $tests_log)" >&2
    exit 1
fi
