"""Cold-start and sparse-user evaluation: every model x {warm, cold items, cold users, activity quartiles}.

Protocol. For each dataset two stores are built with the same seed (2020), which draws the same
cold items and the same cold users in both (:func:`ckgrec.kgbuild.split.assign_cold_start`):

* ``k0``: 10% of the items held out with all their interactions (split between valid and test),
  10% of the users reduced to their profile (k = 0 training pairs, the rest to test);
* ``k3``: the same, but the cold users keep k = 3 random training pairs.

Datasets: the embedded micro-video dataset (three modalities, item attributes, user profiles)
and ML-100K from ``../shared/datasets/ml-100k-recbole`` (ratings, profiles, genres, the Freebase
KG through the ``.link`` file) with the sentence-embedding text features of
``../shared/datasets/ml-100k-features``.

Each model x seed is one ``ckg train`` process with one torch thread, early stopping on
validation Recall@20 (patience 5, at most 60 epochs), and the trainer's final evaluation, which
scores the groups of :mod:`ckgrec.model.evaluation.groups` from the same ranking pass. KG models start from random
embeddings (no TransR pretraining, to keep the grid affordable). A model that cannot score cold
items gets "n/a" there (never 0). The table: test split, mean ± std over seeds of Recall@20 and
NDCG@20; warm, cold-item and activity groups from the ``k0`` store, cold users from both.

    python benchmarks/bench_coldstart.py                                  # both datasets, every model, 3 seeds
    python benchmarks/bench_coldstart.py --dataset embedded --models mostpop,featknn --seeds 2020
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "datasets"
ML100K = SHARED / "ml-100k-recbole"
ML100K_TEXT = SHARED / "ml-100k-features"
MODELS = (
    "mostpop",
    "ease",
    "bprmf",
    "lightgcn",
    "featknn",
    "vbpr",
    "kgat",
    "dualkgat",
    "dualkgat+colddrop",
    "dualkgat-default",
    "dualkgat-default+colddrop",
    "neumf",
    "ngcf",
    "acf",
    "itemknn",
    "rp3beta",
    "simgcl",
    "freedom",
    "kgin",
)
# table columns that are a model with other options: column -> the --model it trains
VARIANT_OF = {
    "dualkgat+colddrop": "dualkgat",
    "dualkgat-default": "dualkgat",
    "dualkgat-default+colddrop": "dualkgat",
}
SEEDS = (2020, 2021, 2022)
COLD_USER_K = (0, 3)
GROUP_ROWS = ("warm", "cold_items_all", "cold_items_only", "activity_q1", "activity_q2", "activity_q3", "activity_q4")
METRICS = ("recall@20", "ndcg@20")

from benchmarks import experiments  # noqa: E402
from benchmarks.results import seed_mean  # noqa: E402

# Deviations from the model defaults, and why (the same as bench_baselines_ml100k where shared):
# benchmarks/experiments/coldstart/<column>.toml; a column without a file is its model at its defaults
BENCH = "coldstart"
SETTINGS = (
    "lightgcn",
    "ngcf",
    "kgat",
    "dualkgat",
    "dualkgat+colddrop",
    "dualkgat-default",
    "dualkgat-default+colddrop",
)  # the columns with a file, in the order the notes list them


def setting(column: str) -> experiments.Experiment:
    return experiments.get(BENCH, column, VARIANT_OF.get(column, column))


def run(cmd: list[str], log) -> tuple[int, float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return proc.returncode, time.perf_counter() - start


def ckg() -> list[str]:
    return [sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main(sys.argv[1:]))"]


def build_store(dataset: str, k: int, work: Path, log) -> Path:
    """The cold-start store of ``dataset`` with ``k`` training pairs per cold user (built once)."""
    store = work / dataset / f"store-k{k}"
    if (store / "manifest.json").is_file():
        return store
    cfg = work / dataset / f"build-k{k}.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        f"[build]\nseed = 2020\n[build.split]\ncold_items = 0.1\ncold_users = 0.1\ncold_user_train = {k}\n",
        encoding="utf-8",
    )
    if dataset == "ml100k":
        if not ML100K.exists() or not ML100K_TEXT.exists():
            raise SystemExit(f"dataset not found: {ML100K} / {ML100K_TEXT}")
        cmd = [
            *ckg(),
            "build",
            str(ML100K),
            "--out",
            str(store),
            "--config",
            str(cfg),
            "--feature",
            f"text={ML100K_TEXT}",
            "--quiet",
            "--force",
        ]
    else:
        from ckgrec.kgbuild.embedded import embedded_dataset_dir

        cmd = [
            *ckg(),
            "build",
            str(embedded_dataset_dir()),
            "--out",
            str(store),
            "--config",
            str(cfg),
            "--quiet",
            "--force",
        ]
    code, _ = run(cmd, log)
    if code:
        raise SystemExit(f"build of {store} failed ({code})")
    return store


def train_run(store: Path, model: str, seed: int, out: Path, args, log, epochs: int) -> dict | None:
    finished = (out / "scores.json").is_file()
    reselect = finished and args.reselect and setting(model).model == "dualkgat"
    if not finished or reselect:
        if args.cached_only:
            return None if not finished else json.loads((out / "scores.json").read_text())
        exp = setting(model)
        extra = exp.flags()  # after --patience: a column's own patience wins
        cmd = [
            *ckg(),
            "train",
            str(store),
            "--model",
            exp.model,
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--epochs",
            str(epochs),
            "--patience",
            str(args.patience),
            "--threads",
            "1",
            "--quiet",
            *extra,
            *(["--reselect"] if reselect else []),
        ]
        code, secs = run(cmd, log)
        if code:
            print(f"{out.name}: failed ({code}), see the log", flush=True)
            return None
        print(f"{out.parent.name}/{out.name}: {secs:.0f}s", flush=True)
    return json.loads((out / "scores.json").read_text())


@functools.lru_cache(maxsize=None)
def _protocols(store: Path):
    """The store's cold-start protocols, read once per store (not once per run)."""
    from ckgrec.model.evaluation.groups import Protocols
    from ckgrec.schemas.store import Store

    return Protocols.from_store(Store.open(store))


def with_current_rules(scores: dict, model: str, store: Path) -> dict:
    """Apply today's n/a rules to a run scored before them (k = 0 cold users of a model whose
    ``can_score_cold_users`` is False were scored as numbers until then); runs scored since carry
    "n/a" already, and the figures are the same. The rule is :func:`ckgrec.model.evaluation.groups.unscorable_groups`,
    asked of the model's class (the grid trains every model with its default graphs)."""
    from ckgrec.model.evaluation.groups import COLD_USERS, unscorable_groups
    from ckgrec.model.models.registry import get_model

    if COLD_USERS not in unscorable_groups(get_model(VARIANT_OF.get(model, model)), _protocols(store)):
        return scores
    for split, groups in scores.get("groups", {}).items():
        entry = groups.get(COLD_USERS)
        if isinstance(entry, dict):
            scores.setdefault("groups_uninformed", {}).setdefault(split, {})[COLD_USERS] = entry
            groups[COLD_USERS] = "n/a"
    return scores


def cell(scores: list[dict], group: str, metric: str) -> str:
    """mean ± std over seeds of ``groups.test[group][metric]``; "n/a" when the model cannot score it."""

    vals = [s.get("groups", {}).get("test", {}).get(group) for s in scores]
    if not vals or any(v is None for v in vals):
        return "—"
    if any(v == "n/a" for v in vals):
        return "n/a"
    return seed_mean([v[metric] for v in vals], one_seed=" (1 seed)")


def n_users(scores: list[dict], group: str) -> str:
    for s in scores:
        g = s.get("groups", {}).get("test", {}).get(group)
        if isinstance(g, dict):
            return str(g["n_users"])
    return "—"


def dataset_section(dataset: str, records: dict, models: list[str], seeds: list[int], stores: dict[int, Path]) -> str:
    """One table per metric: groups as rows, models as columns."""
    from ckgrec.schemas.store import Store

    m0 = Store.open(stores[0]).counts
    rows = [(g, 0) for g in GROUP_ROWS] + [("cold_users", k) for k in sorted(stores)]
    have = [m for m in models if records.get((0, m))]
    out = [
        f"### {dataset}",
        "",
        f"Store k0: {m0['users']:,} users x {m0['items']:,} items, pairs by protocol {m0['pairs_by_protocol']}.",
        "",
    ]
    for metric in METRICS:
        head = ["group", "users", *have]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for g, k in rows:
            label = f"cold users k={k}" if g == "cold_users" else g.replace("_", " ")
            every = [s for m in have for s in records.get((k, m), [])]
            cells = [label, n_users(every, g)] + [
                cell(records.get((k, m), []), g, metric) if records.get((k, m)) else "—" for m in have
            ]
            lines.append("| " + " | ".join(cells) + " |")
        overall = ["all test users (k0)", ""] + [_overall(records[(0, m)], metric) for m in have]
        lines.append("| " + " | ".join(overall) + " |")
        out += [f"Test {metric}, mean ± std over seeds:", "", *lines, ""]
    shown = _uninformed(records, have)
    if shown:
        out += ["What the rankings reported as n/a above give anyway (k0, test, Recall@20): " + shown, ""]
    epochs = ", ".join(f"{m} {_mean_epochs(records[(0, m)])}" for m in have)
    out += [f"Epochs run (best), mean over seeds, k0: {epochs}.", ""]
    return "\n".join(out)


def _overall(scores: list[dict], metric: str) -> str:

    return seed_mean([s["test"][metric] for s in scores], one_seed=" (1 seed)")


def _mean_epochs(scores: list[dict]) -> str:
    import numpy as np

    if not scores[0]["epochs"]:
        return "closed form"
    return f"{np.mean([s['epochs'] for s in scores]):.0f} ({np.mean([s['best_epoch'] for s in scores]):.0f})"


def _uninformed(records: dict, models: list[str]) -> str:
    import numpy as np

    parts = []
    for m in models:
        un = [s.get("groups_uninformed", {}).get("test", {}) for s in records[(0, m)]]
        said = []
        if un and all("cold_items_all" in u for u in un):
            a = np.mean([u["cold_items_all"]["recall@20"] for u in un])
            o = np.mean([u["cold_items_only"]["recall@20"] for u in un])
            said.append(f"{a:.4f} among all items / {o:.4f} among cold items")
        if un and all("cold_users" in u for u in un):
            said.append(f"{np.mean([u['cold_users']['recall@20'] for u in un]):.4f} for k = 0 cold users")
        if said:
            parts.append(f"{m} " + ", ".join(said))
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="embedded,ml100k", help="comma-separated: embedded, ml100k (default both)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated models (default: every model)")
    ap.add_argument("--ml100k-models", help="models for ml100k only (default: --models)")
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated seeds (default 2020,2021,2022)")
    ap.add_argument("--ml100k-seeds", help="seeds for ml100k only (default: --seeds)")
    ap.add_argument("--ml100k-k3-seeds", help="seeds for the ml100k k3 store only (default: the ml100k seeds)")
    ap.add_argument(
        "--ml100k-model-epochs", default="", help="per-model epoch caps on ml100k, e.g. dualkgat=10,kgat=10"
    )
    ap.add_argument("--epochs", type=int, default=60, help="maximum epochs (default 60)")
    ap.add_argument(
        "--cached-only", action="store_true", help="train nothing; report the runs that finished (the rest as omitted)"
    )
    ap.add_argument("--patience", type=int, default=5, help="early-stopping patience in evaluations (default 5)")
    ap.add_argument(
        "--work", default=str(ROOT / "benchmarks" / "work" / "coldstart"), help="stores and runs (git-ignored)"
    )
    ap.add_argument("--log", default=None, help="where ckg's output goes (default WORK/bench.log)")
    ap.add_argument(
        "--note", action="append", default=[], help="a line added to the section (e.g. what was omitted and why)"
    )
    ap.add_argument(
        "--reselect",
        action="store_true",
        help="finished dualkgat runs choose their knowledge filter again with the current grid (ckg train --reselect)",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    ap.add_argument(
        "--section",
        default="coldstart",
        help="the results file to write, benchmarks/results/SECTION.md (default coldstart: the full grid); "
        "a subset of the models belongs in a section of its own",
    )
    ap.add_argument(
        "--list",
        action="store_true",
        help="print each experiment's name, label and ckg train command (first dataset, k0, first seed); run nothing",
    )
    args = ap.parse_args(argv)
    work = Path(args.work)
    if args.list:
        d = [x.strip() for x in args.dataset.split(",") if x.strip()][0]
        seed = int(args.seeds.split(",")[0])
        rows = []
        for m in [m.strip() for m in args.models.split(",") if m.strip()]:
            e = setting(m)
            cmd = experiments.command(
                e,
                work / d / "store-k0",
                work / d / "runs-k0" / f"{m}-s{seed}",
                seed=seed,
                epochs=args.epochs,
                patience=args.patience,
                threads=1,
            )
            rows.append(
                (e, [*cmd[: cmd.index("--threads") + 2], *e.flags()])
            )  # the column's own patience after the table's, as train_run
        print(experiments.listing(rows))
        return 0
    work.mkdir(parents=True, exist_ok=True)
    datasets = [d.strip() for d in args.dataset.split(",") if d.strip()]
    log = open(args.log or work / "bench.log", "a", encoding="utf-8")
    sections, all_models, all_seeds, omitted = [], {}, {}, []
    for dataset in datasets:
        models = [
            m.strip()
            for m in ((args.ml100k_models if dataset == "ml100k" and args.ml100k_models else args.models).split(","))
            if m.strip()
        ]
        seeds = [
            int(s)
            for s in ((args.ml100k_seeds if dataset == "ml100k" and args.ml100k_seeds else args.seeds).split(","))
            if s.strip()
        ]
        all_models[dataset], all_seeds[dataset] = models, seeds
        caps = (
            dict(kv.split("=") for kv in args.ml100k_model_epochs.split(",") if kv.strip())
            if dataset == "ml100k"
            else {}
        )
        stores = {k: build_store(dataset, k, work, log) for k in COLD_USER_K}
        records: dict[tuple[int, str], list[dict]] = {}
        for k, store in stores.items():
            k_seeds = (
                [int(x) for x in args.ml100k_k3_seeds.split(",")]
                if (dataset == "ml100k" and k == 3 and args.ml100k_k3_seeds)
                else seeds
            )
            for model in models:
                got = [
                    train_run(
                        store,
                        model,
                        seed,
                        work / dataset / f"runs-k{k}" / f"{model}-s{seed}",
                        args,
                        log,
                        int(caps.get(model, args.epochs)),
                    )
                    for seed in k_seeds
                ]
                records[(k, model)] = [with_current_rules(s, model, store) for s in got if s is not None]
                if len(records[(k, model)]) < len(k_seeds):
                    omitted.append(
                        f"{dataset} k{k} {model}: {len(records[(k, model)])} of seeds {', '.join(map(str, k_seeds))} finished"
                    )
            if caps:
                omitted.extend(f"{dataset}: {m} capped at {c} epochs" for m, c in caps.items() if m in models)
        sections.append(dataset_section(dataset, records, models, seeds, stores))
    settings = [
        f"- {m}: `{' '.join(e.flags())}` -- {e.why}"
        for m in SETTINGS
        if any(m in ms for ms in all_models.values())
        for e in [setting(m)]
    ]
    grid = "; ".join(f"{d}: {', '.join(all_models[d])} x seeds {', '.join(map(str, all_seeds[d]))}" for d in datasets)
    body = "\n".join(
        [
            "Two stores per dataset, split seed 2020: 10% of items held out with all their interactions (cold items); 10% of users "
            "reduced to k = 0 (store k0) or k = 3 (store k3) training pairs, the same cold items and users in both. Test split; "
            f"early stopping on validation Recall@20 (patience {args.patience}, at most {args.epochs} epochs); one torch thread per run. "
            "Groups and candidate sets as in `model/evaluation/groups.py`: warm = non-cold users' pairs on non-cold items, ranked among non-cold "
            "items; cold items all / only = non-cold users' pairs on cold items ranked among all items (their other held-out items "
            "removed) / among cold items only; activity q1..q4 = warm split by training-pair quartile (q1 least active); cold users = "
            "their pairs, ranked as warm. n/a: the model cannot score never-seen items (ID-only), or, for k = 0 cold users, cannot "
            "rank for a user without history (an untrained ID embedding or an empty history: bprmf, neumf, lightgcn, ngcf, ease, "
            "featknn, acf, kgat, whose graph has no profile edges); mostpop (popularity), vbpr (its learned item bias) and dualkgat "
            "(the profile edges of the item-side graph) can. No figure is reported for n/a.",
            "",
            f"Grid: {grid}.",
            *[f"- note: {n}" for n in args.note],
            *[f"- not run / reduced: {o}" for o in dict.fromkeys(omitted)],
            "",
            *sections,
            "Settings other than the model defaults:",
            *settings,
        ]
    )
    print(body)
    if not args.no_write:
        from benchmarks.results import update_section

        shown, skip = [], False
        for a in argv if argv is not None else sys.argv[1:]:
            if skip or a.startswith("--note"):
                skip = a == "--note"
                continue
            shown.append(a)
        cmd = "python benchmarks/bench_coldstart.py " + " ".join(shown)
        update_section(
            args.section, "Cold start and sparse users: groups x models (Recall@20, NDCG@20)", cmd.strip(), body
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
