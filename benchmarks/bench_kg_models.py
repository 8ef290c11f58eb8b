"""The KG models (kgat, acf, dualkgat and dualkgat's ablations) against the baselines, full ranking.

Two tables, one section each of ``benchmarks/RESULTS.md``:

* ``--dataset embedded``: every baseline, ``kgat``, ``acf`` and ``dualkgat`` on the embedded
  synthetic dataset, 3 seeds, mean ± std, and ``ckg compare``'s paired per-user Wilcoxon test of
  each model against the best baseline.
* ``--dataset ml100k``: ML-100K (RecBole atomic files) with the Freebase KG and the items' text
  features, ``kgat``, ``acf``, ``dualkgat`` and its ablations (no item-side graph, no user-side
  graph, plain layer concatenation, no dimension importance, L = 1, 2, 4). The baselines see
  only interactions; their runs from ``bench_baselines_ml100k.py`` are on a store built from the
  same files without the text features, and the script checks that both stores hold the
  identical split (same (user, item, split) triples by label) before putting them in one table.

Each run is ``ckg train`` in its own process with one torch thread, early stopping on validation
Recall@20; finished runs are reused (delete a run directory to redo it). Settings other than the
model defaults are in :data:`SETTINGS` with the reason.

    python benchmarks/bench_kg_models.py --dataset embedded
    python benchmarks/bench_kg_models.py --dataset ml100k --seeds 2020 --variant-seeds 2020
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_baselines_ml100k import SETTINGS as BASELINE_SETTINGS  # noqa: E402
from benchmarks.bench_baselines_ml100k import run  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"
WORK = ROOT / "benchmarks" / "work"
BASELINES = ("mostpop", "ease", "bprmf", "neumf", "ngcf", "lightgcn")
MAIN = ("kgat", "acf", "dualkgat")

# LightGCN's training regime for dualkgat/kgat: linear aggregator, no per-layer normalisation, no
# message dropout, no TransR loss, L2 1e-4 on the batch's layer-0 embeddings, batch 2048
LIGHT = ["--set", "aggregator=linear", "--set", "layer_norm=false", "--set", "dropout=0", "--set", "kg_weight=0", "--set", "regularize=ego",
         "--l2", "0.0001", "--batch-size", "2048"]
# the propagation bench_dualkgat_sweep.py found on the embedded data: that regime with LightGCN's
# weights shared out by attention, plain concat, no dimension importance
LIGHT_AD = [*LIGHT, "--set", "edge_weights=attention_degree", "--set", "fusion=concat", "--set", "dimension_importance=false"]


def _drop_option(args: list[str], value: str) -> list[str]:
    """``args`` without the ``--set value`` pair."""
    out, skip = [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a == "--set" and i + 1 < len(args) and args[i + 1] == value:
            skip = True
            continue
        out.append(a)
    return out


# that propagation at lr 2e-3: the embedded sweep's best validation setting, shipped as configs/dualkgat-lightgcn-regime.toml
SHIPPED = [*LIGHT_AD, "--lr", "0.002"]
SHIPPED_LABEL = ("dualkgat, LightGCN regime at lr 2e-3, degree-prior attention, plain concat, no dimension importance, no TransR loss "
                 "(best validation setting of the sweep)")
# ... with LightGCN's layer mean instead of plain concat, the best single change of the ML-100K sweep
# (bench_dualkgat_sweep.py --dataset ml100k); on the embedded data concat validates better
SHIPPED_MEAN = [*SHIPPED, "--set", "fusion=mean"]
SHIPPED_MEAN_LABEL = "dualkgat, the setting above with LightGCN's layer mean (--set fusion=mean)"


# label -> (model, extra ckg-train arguments)
ABLATIONS: dict[str, tuple[str, list[str]]] = {
    "dualkgat −item-side graph": ("dualkgat", ["--set", "use_item_side=false"]),
    "dualkgat −user-side graph": ("dualkgat", ["--set", "use_user_side=false"]),
    "dualkgat −layer attention (plain concat)": ("dualkgat", ["--set", "fusion=concat"]),
    "dualkgat −dimension importance": ("dualkgat", ["--set", "dimension_importance=false"]),
    "dualkgat L=1": ("dualkgat", ["--set", "layer_dims=64"]),
    "dualkgat L=2": ("dualkgat", ["--set", "layer_dims=64,32"]),
    "dualkgat L=4": ("dualkgat", ["--set", "layer_dims=64,32,16,16"]),
}
# ML-100K rows beside the ablations (lr and batch from the table's dualkgat settings)
# the baselines' limits (bench_baselines_ml100k.py), and the label of a row trained under them
BASELINE_LIMITS = (300, 10)
LONG = f"trained as long as the baselines (≤ {BASELINE_LIMITS[0]} epochs, patience {BASELINE_LIMITS[1]})"
KGAT_PATIENT = f"kgat at lr 1e-3 (RecBole's), at most {BASELINE_LIMITS[0]} epochs, patience 20"
ML100K_VARIANTS: dict[str, tuple[str, list[str]]] = {
    "dualkgat, LightGCN regime with the TransR loss, degree-prior attention, plain concat, no dimension importance": (
        "dualkgat", _drop_option(LIGHT_AD, "kg_weight=0")),
    "dualkgat, LightGCN regime, degree-prior attention, plain concat, no dimension importance (no TransR loss)": ("dualkgat", LIGHT_AD),
    f"dualkgat, shipped setting (configs/dualkgat-lightgcn-regime.toml: the row above at lr 2e-3), {LONG}": (
        "dualkgat", SHIPPED),
    f"dualkgat, shipped setting with LightGCN's layer mean (--set fusion=mean: ML-100K's validation choice), {LONG}": ("dualkgat", SHIPPED_MEAN),
    # the second round's best on validation (seed 2020: 0.3559 against 0.3489 for the row above)
    f"dualkgat, shipped setting with the layer mean and batch 1024 (the ML-100K sweep's round 2), {LONG}": ("dualkgat", [*SHIPPED_MEAN, "--batch-size", "1024"]),
    f"kgat, {LONG}": ("kgat", []),
    f"kgat at lr 1e-3 (RecBole's), {LONG}": ("kgat", ["--lr", "0.001"]),
    # at lr 1e-3 validation sits on long plateaus: patience 10 stopped two of the three seeds above within 36 epochs
    KGAT_PATIENT: ("kgat", ["--lr", "0.001"]),
    f"dualkgat, {LONG}": ("dualkgat", []),
    # RecBole's KGAT propagates over interactions both ways and KG triples only as stored
    "kgat, side triples only as stored (RecBole's graph: an attribute hears nothing)": ("kgat", ["--set", "side_edges=stored"]),
    "kgat without the TransR loss (kg_weight 0: attention from the CF-trained embeddings)": ("kgat", ["--set", "kg_weight=0"]),
    # RecBole's KGAT: its TransR loss is over the KG's triples, not the interactions
    "kgat, TransR loss over the side triples only (RecBole's)": ("kgat", ["--set", "kg_triples=side"]),
    # RecBole's KGAT steps one Adam for both phases; KGAT's code (and the default here) one each
    "kgat, TransR phase on the CF phase's Adam (RecBole's)": ("kgat", ["--set", "kg_optimizer=shared"]),
    "dualkgat, TransR phase on the CF phase's Adam": ("dualkgat", ["--set", "kg_optimizer=shared"]),
    "dualkgat without the TransR loss (kg_weight 0)": ("dualkgat", ["--set", "kg_weight=0"]),
}
# rows trained under other limits than the table's (epochs, patience), and why: the table's 20-epoch
# cap is there because a kgat/dualkgat epoch with TransR batches costs 12-24 s here, and kgat's best
# epoch was the 20th in every seed (dualkgat's the 15th-19th); these rows are trained as long as the baselines were
# (bench_baselines_ml100k.py: at most 300 epochs, patience 10), to see what the cap costs
VARIANT_LIMITS: dict[str, tuple[int, int]] = {label: BASELINE_LIMITS for label in ML100K_VARIANTS if label.endswith(LONG)}
VARIANT_LIMITS[KGAT_PATIENT] = (BASELINE_LIMITS[0], 20)

RANDOM_INIT = (["--set", "init=random"], "random initialisation, stated explicitly so that a pretrained/ folder in the store cannot change the run (pretrained init is its own row)")
# Deviations from the model defaults, and why (per dataset).
SETTINGS: dict[str, dict[str, tuple[list[str], str]]] = {
    "embedded": {**BASELINE_SETTINGS, "kgat": RANDOM_INIT, "dualkgat": RANDOM_INIT},
    "ml100k": {
        "kgat": (["--batch-size", "2048", "--lr", "0.005", *RANDOM_INIT[0]], "batch 2048 (RecBole's default) instead of KGAT's 1024: halves the CF phase's "
                 "full-graph propagations per epoch; lr 5e-3 instead of 1e-3: at 1e-3 kgat sat at validation Recall@20 0.20-0.22 for 7 epochs (40 s each) "
                 "and RecBole needed 130 epochs, more than this machine allows per run (the same reason as lightgcn's lr in the baseline table); "
                 "random initialisation (no TransR pretraining on this store: ~23 s per pretraining epoch on G_u here)"),
        "dualkgat": (["--batch-size", "2048", "--lr", "0.005", *RANDOM_INIT[0]], "as kgat"),
    },
}
# label -> (model, extra ckg-train arguments), rows of the embedded table beside the main models
EMBEDDED_VARIANTS: dict[str, tuple[str, list[str]]] = {
    "dualkgat, TransR-pretrained init": ("dualkgat", ["--set", "init=pretrained"]),
    "dualkgat, ≤ 16 neighbours per node per epoch (confidence-sampled)": ("dualkgat", ["--set", "max_neighbours=16"]),
    # the best single option of bench_dualkgat_sweep.py by validation Recall@20 (seed 2020); its seed-2020 run is the L=2 ablation's
    "dualkgat L=2 (best single option of the sweep)": ("dualkgat", ["--set", "layer_dims=64,32"]),
    # bench_dualkgat_sweep.py's LightGCN-regime settings (seed 2020 validation Recall@20: 0.2624 with the
    # TransR loss, 0.2597 without, 0.2691 without and at lr 2e-3, the sweep's best)
    "dualkgat, LightGCN regime with the TransR loss, degree-prior attention, plain concat, no dimension importance": (
        "dualkgat", _drop_option(LIGHT_AD, "kg_weight=0")),
    "dualkgat, LightGCN regime, degree-prior attention, plain concat, no dimension importance (no TransR loss)": ("dualkgat", LIGHT_AD),
    SHIPPED_LABEL: ("dualkgat", SHIPPED),
    SHIPPED_MEAN_LABEL: ("dualkgat", SHIPPED_MEAN),
}


def store_for(dataset: str) -> Path:
    """Build (once) the store the KG models train on."""
    if dataset == "embedded":
        out = WORK / "embedded" / "store"  # shared with bench_baselines_ml100k --dataset embedded
        source, extra = None, None
    else:
        out = WORK / "kg" / "ml100k-text"
        source, extra = SHARED / "ml-100k-recbole", {"text": str(SHARED / "ml-100k-features")}
    if not (out / "manifest.json").exists():
        from ckgrec.kgbuild.build import build

        if source is None:
            from ckgrec.kgbuild.embedded import embedded_dataset_dir

            source = embedded_dataset_dir()
        if not Path(source).exists():
            raise SystemExit(f"dataset not found: {source}")
        build(source, out, extra_features=extra, force=True)
    return out


def interaction_only_store(dataset: str = "embedded") -> Path:
    """The dataset without profiles, item attributes, features or KG: the graphs hold only the
    interactions (the same pairs, so the same split), so a model there measures what the
    knowledge in the graph adds."""
    if dataset == "ml100k":
        out = WORK / "kg" / "ml100k-interactions-only"
        if not (out / "manifest.json").exists():
            from ckgrec.kgbuild.build import build

            raw = WORK / "kg" / "ml100k-interactions-only-raw"  # a link to the shared file: MovieLens is not copied
            raw.mkdir(parents=True, exist_ok=True)
            link = raw / "ml-100k.inter"
            if not link.exists():
                link.symlink_to((SHARED / "ml-100k-recbole" / "ml-100k.inter").resolve())
            build(raw, out, force=True)
        return out
    out = WORK / "kg" / "embedded-interactions-only"
    if not (out / "manifest.json").exists():
        import pandas as pd
        from ckgrec.kgbuild.build import build
        from ckgrec.kgbuild.embedded import embedded_dataset_dir

        src, raw = Path(embedded_dataset_dir()), WORK / "kg" / "embedded-interactions-only-raw"
        raw.mkdir(parents=True, exist_ok=True)
        pd.read_csv(src / "interactions.csv").to_csv(raw / "interactions.csv", index=False)
        pd.read_csv(src / "users.csv")[["user_id"]].to_csv(raw / "users.csv", index=False)
        pd.read_csv(src / "items.csv")[["item_id", "name"]].to_csv(raw / "items.csv", index=False)
        build(raw, out, force=True)
    return out


def same_split(a: Path, b: Path) -> bool:
    from ckgrec.schemas.store import Store

    def pairs(path: Path) -> set:
        s = Store.open(path)
        i = s.table("interactions", columns=["user", "item", "split"])
        users = s.table("users").set_index("user")["label"]
        items = s.table("items").set_index("item")["label"]
        return set(zip(users.loc[i["user"]].to_numpy(), items.loc[i["item"]].to_numpy(), i["split"].to_numpy()))

    return pairs(a) == pairs(b)


class NotRun(Exception):
    """A run left out under --only-finished."""


def train_run(store: Path, out: Path, model: str, seed: int, extra: list[str], epochs: int, patience: int, only_finished: bool = False) -> dict:
    if only_finished and not (out / "scores.json").is_file():
        raise NotRun(out.name)
    ckg = [sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main(sys.argv[1:]))"]
    if not (out / "scores.json").is_file():
        cmd = [*ckg, "train", str(store), "--model", model, "--out", str(out), "--seed", str(seed), "--epochs", str(epochs),
               "--patience", str(patience), "--threads", "1", "--quiet", *extra]
        code, secs, rss = run(cmd)
        if code:
            raise SystemExit(f"{' '.join(cmd)} failed ({code})")
    trained = json.loads((out / "config.json").read_text())["train"]
    scores = json.loads((out / "scores.json").read_text())
    closed_form = scores.get("epochs") == 0  # limits play no part
    if not closed_form and (trained["epochs"], trained["patience"]) != (epochs, patience):
        raise SystemExit(f"{out} was trained with at most {trained['epochs']} epochs and patience {trained['patience']}, this table asks for "
                         f"{epochs} and {patience}: pass those, or move the run away to retrain it")
    t = scores["test"]
    print(f"{out.name:40s} recall@20 {t['recall@20']:.4f} ndcg@20 {t['ndcg@20']:.4f} epochs {scores['epochs']} best {scores['best_epoch']} "
          f"s/epoch {scores.get('seconds_per_epoch') or 0:.1f}", flush=True)
    return scores


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.replace("−", "no-").replace("≤", "max")).strip("-").replace("--", "-")


def table(rows: list[tuple[str, list[dict]]]) -> str:
    import numpy as np

    def ms(vals):
        v = np.asarray(vals, dtype=float)
        return f"{v.mean():.4f} ± {v.std(ddof=1):.4f}" if len(v) > 1 else f"{v.mean():.4f}"

    metrics = ["recall@20", "ndcg@20", "recall@10", "ndcg@10"]
    best = {m: max(np.mean([s["test"][m] for s in runs]) for _, runs in rows) for m in metrics}
    lines = ["| model | seeds | " + " | ".join(metrics) + " | valid recall@20 | epochs (best) | s/epoch |", "|---|---|" + "---|" * (len(metrics) + 3)]
    for label, runs in rows:
        cells = []
        for m in metrics:
            c = ms([s["test"][m] for s in runs])
            cells.append(f"**{c}**" if np.isclose(np.mean([s["test"][m] for s in runs]), best[m]) else c)
        ep = f"{np.mean([s['epochs'] for s in runs]):.0f} ({np.mean([s['best_epoch'] for s in runs]):.0f})" if runs[0]["epochs"] else "closed form"
        spe = runs[0].get("seconds_per_epoch")
        lines.append(f"| {label} | {len(runs)} | " + " | ".join(cells) + f" | {ms([s['valid']['recall@20'] for s in runs])} | {ep} | "
                     + (f"{np.mean([s['seconds_per_epoch'] for s in runs]):.1f}" if spe else "—") + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="embedded", choices=["embedded", "ml100k"], help="embedded (default) or ml100k (+ Freebase + text features)")
    ap.add_argument("--seeds", default="2020,2021,2022", help="seeds of the baselines and the main models (default 2020,2021,2022)")
    ap.add_argument("--variant-seeds", default="2020,2021,2022", help="seeds of the dualkgat ablations (ml100k only; default 2020,2021,2022)")
    ap.add_argument("--models", default=",".join(BASELINES + MAIN), help="comma-separated models (default: baselines + kgat, acf, dualkgat)")
    ap.add_argument("--ablations", action=argparse.BooleanOptionalAction, default=None, help="run dualkgat's ablations (default: on for ml100k, off for embedded)")
    ap.add_argument("--pretrained-variant", action=argparse.BooleanOptionalAction, default=True, help="embedded: also train dualkgat from TransR-pretrained embeddings (runs ckg pretrain on the store once; default on)")
    ap.add_argument("--interaction-only", action=argparse.BooleanOptionalAction, default=True, help="also train kgat (and on ml100k the shipped dualkgat setting, with plain concat and with the layer mean) on a store of the interactions alone, to measure what the KG adds (default on)")
    ap.add_argument("--epochs", type=int, default=None, help="maximum epochs per run (default: 200 on embedded, 20 on ml100k)")
    ap.add_argument("--patience", type=int, default=None, help="early-stopping patience in epochs (default: 10 on embedded, 5 on ml100k)")
    ap.add_argument("--only-finished", action="store_true", help="train nothing: tabulate the finished runs and list the missing ones")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    if args.epochs is None:
        args.epochs = 200 if args.dataset == "embedded" else 20
    if args.patience is None:  # 0 is a real value: never stop early
        args.patience = 10 if args.dataset == "embedded" else 5
    seeds = [int(s) for s in args.seeds.split(",")]
    vseeds = [int(s) for s in args.variant_seeds.split(",")]
    models = [m for m in args.models.split(",") if m]
    ablations = args.ablations if args.ablations is not None else args.dataset == "ml100k"
    store = store_for(args.dataset)
    runs_dir = WORK / "kg" / f"runs-{args.dataset}"
    settings = SETTINGS[args.dataset]
    rows: list[tuple[str, list[dict]]] = []
    run_paths: list[str] = []
    notes: list[str] = []
    for model in models:
        if args.dataset == "ml100k" and model in BASELINES:
            base_store = WORK / "ml100k" / "store"
            found = [base for s in seeds if (base := WORK / "ml100k" / "runs" / f"{model}-s{s}" / "scores.json").is_file()]
            if not found:
                notes.append(f"- {model}: no run of `bench_baselines_ml100k.py` found; run it first")
                continue
            if not same_split(base_store, store):
                raise SystemExit(f"{base_store} and {store} hold different splits; rebuild one of them")
            rows.append((model, [json.loads(p.read_text()) for p in found]))
            continue
        extra = settings.get(model, ([], ""))[0]
        rs = []
        for seed in seeds:
            out = runs_dir / f"{model}-s{seed}"
            try:
                rs.append(train_run(store, out, model, seed, extra, args.epochs, args.patience, args.only_finished))
                run_paths.append(str(out))
            except NotRun:
                notes.append(f"- {model} seed {seed}: not run (compute budget of this session)")
        if rs:
            rows.append((model, rs))
    variants: dict[str, tuple[str, list[str]]] = {}
    if args.dataset == "embedded" and args.pretrained_variant:
        if not (store / "pretrained").is_dir():
            code, _, _ = run([sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main(sys.argv[1:]))", "pretrain", str(store), "--quiet"])
            if code:
                raise SystemExit(f"ckg pretrain {store} failed ({code})")
        variants.update(EMBEDDED_VARIANTS)
    if ablations:
        variants.update(ABLATIONS)
    if args.dataset == "ml100k":
        variants.update(ML100K_VARIANTS)
    if args.interaction_only:
        ui = interaction_only_store(args.dataset)
        if not same_split(ui, store):
            raise SystemExit(f"{ui} and {store} hold different splits")
        # another store: same split, but not in the paired test (ckg compare pairs runs of one store)
        io_rows = [("kgat", "kgat", settings["kgat"][0], (args.epochs, args.patience), "kgat-interactions-only")]
        if args.dataset == "ml100k":
            io_rows.append((f"the shipped dualkgat setting, {LONG}", "dualkgat",
                            [*settings["dualkgat"][0], *SHIPPED], BASELINE_LIMITS, "dualkgat-shipped-interactions-only"))
            io_rows.append((f"the shipped dualkgat setting with the layer mean (fusion=mean), {LONG}", "dualkgat",
                            [*settings["dualkgat"][0], *SHIPPED_MEAN], BASELINE_LIMITS, "dualkgat-shipped-mean-interactions-only"))
        for what, model, extra, (epochs, patience), stem in io_rows:
            rs = []
            for seed in seeds:
                try:
                    rs.append(train_run(ui, runs_dir / f"{stem}-s{seed}", model, seed, extra, epochs, patience, args.only_finished))
                except NotRun:
                    notes.append(f"- {what} on the interaction-only graph, seed {seed}: not run (compute budget of this session)")
            if rs:
                left_out = "attributes, profiles, Freebase KG or text features" if args.dataset == "ml100k" else "attributes, concepts or profiles"
                rows.append((f"{what} on the interaction graph only (no {left_out}; same split; not in the paired test)", rs))
    for label, (model, extra) in variants.items():
        base_extra = settings.get(model, ([], ""))[0]
        if "init=pretrained" in extra:  # the variant's own init replaces the explicit random one
            base_extra = _drop_option(base_extra, "init=random")
        var_seeds = seeds if (args.dataset == "embedded" and label in EMBEDDED_VARIANTS) else vseeds
        rs = []
        for seed in var_seeds:
            out = runs_dir / f"{_slug(label)}-s{seed}"
            try:
                epochs, patience = VARIANT_LIMITS.get(label, (args.epochs, args.patience))
                rs.append(train_run(store, out, model, seed, [*base_extra, *extra], epochs, patience, args.only_finished))
                run_paths.append(str(out))
            except NotRun:
                notes.append(f"- {label} seed {seed}: not run (compute budget of this session)")
        if rs:
            rows.append((label, rs))
    body = [
        f"Test split, mean ± std over seeds (column 'seeds'); early stopping on validation recall@20 (patience {args.patience}, at most "
        f"{args.epochs} epochs{' unless a row says otherwise' if any(l in VARIANT_LIMITS for l, _ in rows) else ''}); one torch thread per run; s/epoch is sampling + training (all phases) without evaluation, on this shared "
        "2-core machine (noisy). Best mean per column in bold.",
        "",
        table(rows),
        "",
    ]
    used = [f"- {m}: `{' '.join(v[0])}` — {v[1]}" for m, v in settings.items() if m in models or (ablations and m == "dualkgat")]
    rescored = sum(bool(r.get("rescored")) for _, runs in rows for r in runs)
    if rescored:
        notes.append(f"- {rescored} kgat/dualkgat runs of this table were trained before 2026-11-27 and rescored with `ckg evaluate --rescore` "
                     "(their final evaluation had paired the best epoch's weights with the last epoch's attention); their weights are unchanged")
    shown = {label for label, _ in rows}
    used += [f"- {label}: `{' '.join(extra)}` on top of {model}'s settings" for label, (model, extra) in variants.items()
             if label in shown and label not in ABLATIONS]
    body += ["Settings other than the model defaults:" if used else "All models at their defaults (`ckg models`).", *used, *notes]
    if args.dataset == "ml100k":
        body += ["", "The baseline rows are the runs of `bench_baselines_ml100k.py` (patience 10, at most 300 epochs) on the store built "
                 "without text features; this script checked that it holds the same split as the store the KG models used."]
    if run_paths:
        from ckgrec.model.evaluation.compare import compare, format_table

        cmp = compare(run_paths, ["recall@20", "ndcg@20"], "test")
        body += ["", "`ckg compare` over the runs of this table (paired over test users, Wilcoxon signed-rank):", "", format_table(cmp)]
        # the default reference leads on the first metric; a baseline leading on NDCG gets its own test
        import numpy as np

        means = {label: np.mean([r["test"]["ndcg@20"] for r in runs]) for label, runs in rows if label in BASELINES}
        ndcg_best = max(means, key=means.get) if means else None
        if ndcg_best and ndcg_best != cmp.reference and any(g.label == ndcg_best for g in cmp.groups):  # ml100k: baselines are another store's runs
            again = compare(run_paths, ["ndcg@20", "recall@20"], "test", reference=ndcg_best)
            again.group_tables = []
            body += ["", f"The same runs against {ndcg_best}, the baseline with the best NDCG@20:", "", format_table(again)]
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        from benchmarks.results import update_section

        title = ("KG models vs baselines on the embedded dataset (3 seeds, paired test)" if args.dataset == "embedded"
                 else "KG models and dualkgat ablations on ML-100K + Freebase + text features")
        update_section(f"kg-models-{args.dataset}", title, f"python benchmarks/bench_kg_models.py --dataset {args.dataset}", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
