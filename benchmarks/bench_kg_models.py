"""The KG models (kgat, kgin, acf, dualkgat and dualkgat's ablations) against the baselines, full ranking.

Two tables, one section each of ``benchmarks/RESULTS.md``:

* ``--dataset embedded``: every baseline, ``kgat``, ``kgin``, ``acf`` and ``dualkgat`` on the embedded
  synthetic dataset, 3 seeds, mean ± std, and ``ckg compare``'s paired per-user Wilcoxon test of
  each model against the best baseline.
* ``--dataset ml100k``: ML-100K (RecBole atomic files) with the Freebase KG and the items' text
  features, ``kgat``, ``acf``, ``dualkgat`` and its ablations (no item-side graph, no user-side
  graph, plain layer concatenation, no dimension importance, L = 1, 2, 4). The baselines see
  only interactions; their runs from ``bench_baselines_ml100k.py`` are on a store built from the
  same files without the text features, and the script checks that both stores hold the
  identical split (same (user, item, split) triples by label) before putting them in one table.

Each run is ``ckg train`` in its own process with one torch thread, early stopping on validation
Recall@20; finished runs are reused (delete a run directory to redo it). Each row is a file
``benchmarks/experiments/kg-models-<dataset>/<name>.toml`` (its options, and for a model's own
row the reason it deviates from the defaults); the run directory is ``<name>-s<seed>``. The
dualkgat rows are the paper design (``shared/paper.toml`` = ``configs/paper.toml``: dualkgat's
defaults when these tables were measured) and its variants, so each trains what it trained; the
options rejected since (e.g. max_neighbours, dualkgat's kg_optimizer) left with their rows.
``benchmarks/bench_main_model.py`` compares the default dualkgat.

    python benchmarks/bench_kg_models.py --dataset embedded
    python benchmarks/bench_kg_models.py --dataset ml100k --list      # the experiments and their commands
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

from benchmarks import experiments  # noqa: E402
from benchmarks.bench_baselines_ml100k import run, train_args  # noqa: E402
from benchmarks.results import TEST_METRICS, epochs_cell, seconds_cell, seed_mean, test_cells  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"
WORK = ROOT / "benchmarks" / "work"
BASELINES = ("mostpop", "ease", "bprmf", "neumf", "ngcf", "lightgcn")
MAIN = ("kgat", "kgin", "acf", "dualkgat")

# The rows, in table order: files benchmarks/experiments/kg-models-<dataset>/<name>.toml (label,
# model, options; the file name is the run directory's). A model's own row is <model>.toml
# (the deviations from its defaults, and why), or its defaults where there is none; the other
# rows name it as their base. [train] epochs/patience in a row: limits other than the table's.
ABLATIONS = (
    "dualkgat-no-item-side",
    "dualkgat-no-user-side",
    "dualkgat-concat",
    "dualkgat-no-dim-importance",
    "dualkgat-L1",
    "dualkgat-L2",
    "dualkgat-L4",
)
EMBEDDED_VARIANTS = (
    "dualkgat-pretrained-init",
    "dualkgat-L2-best-single",
    "dualkgat-light-ad-kg",
    "dualkgat-light-ad",
    "dualkgat-shipped",
    "dualkgat-shipped-mean",
)
# the rows trained as long as the baselines ([train] epochs 300, patience 10) see what the table's
# 20-epoch cap costs: a kgat/dualkgat epoch with TransR batches costs 12-24 s here, and kgat's best
# epoch was the 20th in every seed (dualkgat's the 15th-19th)
ML100K_VARIANTS = (
    "dualkgat-light-ad-kg",
    "dualkgat-light-ad",
    "dualkgat-shipped",
    "dualkgat-shipped-mean",
    "dualkgat-shipped-mean-batch-1024",
    "kgat-long",
    "kgat-lr-1e-3-long",
    "kgat-lr-1e-3-patience-20",
    "dualkgat-long",
    "kgat-side-edges-stored",
    "kgat-no-transr",
    "kgat-kg-triples-side",
    "kgat-kg-optimizer-shared",
    "dualkgat-no-transr",
)
# rows on the store of the interactions alone (same split, not in the paired test)
INTERACTIONS_ONLY = {
    "embedded": ("kgat-interactions-only",),
    "ml100k": (
        "kgat-interactions-only",
        "dualkgat-shipped-interactions-only",
        "dualkgat-shipped-mean-interactions-only",
    ),
}
# the models whose settings a table lists as deviations (embedded: the baselines' too)
SETTING_MODELS = {"embedded": ("lightgcn", "ngcf", "kgat", "kgin", "dualkgat"), "ml100k": ("kgat", "dualkgat")}


def bench(dataset: str) -> str:
    return f"kg-models-{dataset}"


def setting(dataset: str, model: str) -> experiments.Experiment:
    """``model``'s own row on ``dataset``: its file, else its defaults."""
    return experiments.get(bench(dataset), model, model)


def variant_names(dataset: str, ablations: bool, pretrained_variant: bool = True) -> list[str]:
    """The variant rows of ``dataset``'s table, in order."""
    names = list(EMBEDDED_VARIANTS) if dataset == "embedded" and pretrained_variant else []
    if ablations:
        names += ABLATIONS
    if dataset == "ml100k":
        names += ML100K_VARIANTS
    return list(dict.fromkeys(names))


def _seeds_of(exp: experiments.Experiment, seeds: list[int], vseeds: list[int]) -> list[int]:
    return seeds if exp.meta.get("seeds") == "main" else vseeds


LIMITS = ("epochs", "patience")  # passed by train_run, from the row or the table


def store_path(dataset: str) -> Path:
    """Where :func:`store_for` puts the store (``embedded``'s is shared with bench_baselines_ml100k --dataset embedded)."""
    return WORK / "embedded" / "store" if dataset == "embedded" else WORK / "kg" / "ml100k-text"


def interaction_only_path(dataset: str) -> Path:
    return WORK / "kg" / f"{dataset}-interactions-only"


def store_for(dataset: str) -> Path:
    """Build (once) the store the KG models train on."""
    out = store_path(dataset)
    if dataset == "embedded":
        source, extra = None, None
    else:
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
    out = interaction_only_path(dataset)
    if dataset == "ml100k":
        if not (out / "manifest.json").exists():
            from ckgrec.kgbuild.build import build

            raw = WORK / "kg" / "ml100k-interactions-only-raw"  # a link to the shared file: MovieLens is not copied
            raw.mkdir(parents=True, exist_ok=True)
            link = raw / "ml-100k.inter"
            if not link.exists():
                link.symlink_to((SHARED / "ml-100k-recbole" / "ml-100k.inter").resolve())
            build(raw, out, force=True)
        return out
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


def train_run(
    store: Path,
    out: Path,
    model: str,
    seed: int,
    extra: list[str],
    epochs: int,
    patience: int,
    only_finished: bool = False,
    reselect: bool = False,
) -> dict:
    """The scores of the run ``out``, trained first when it has none; ``reselect``: a finished run's
    after-training choices are made again with the current code (``ckg train --reselect``)."""
    if only_finished and not (out / "scores.json").is_file():
        raise NotRun(out.name)
    ckg = [sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main(sys.argv[1:]))"]
    finished = (out / "scores.json").is_file()
    if not finished or reselect:
        cmd = [*ckg, *train_args(store, model, out, seed, epochs, extra, patience)]
        cmd += ["--reselect"] if finished else []
        code, secs, rss = run(cmd)
        if code:
            raise SystemExit(f"{' '.join(cmd)} failed ({code})")
    trained = json.loads((out / "config.json").read_text())["train"]
    scores = json.loads((out / "scores.json").read_text())
    closed_form = scores.get("epochs") == 0  # limits play no part
    if not closed_form and (trained["epochs"], trained["patience"]) != (epochs, patience):
        raise SystemExit(
            f"{out} was trained with at most {trained['epochs']} epochs and patience {trained['patience']}, this table asks for "
            f"{epochs} and {patience}: pass those, or move the run away to retrain it"
        )
    t = scores["test"]
    print(
        f"{out.name:40s} recall@20 {t['recall@20']:.4f} ndcg@20 {t['ndcg@20']:.4f} epochs {scores['epochs']} best {scores['best_epoch']} "
        f"s/epoch {scores.get('seconds_per_epoch') or 0:.1f}",
        flush=True,
    )
    return scores


def table(rows: list[tuple[str, list[dict]]]) -> str:
    lines = [
        "| model | seeds | " + " | ".join(TEST_METRICS) + " | valid recall@20 | epochs (best) | s/epoch |",
        "|---|---|" + "---|" * (len(TEST_METRICS) + 3),
    ]
    for (label, runs), cells in zip(rows, test_cells([runs for _, runs in rows])):
        lines.append(
            f"| {label} | {len(runs)} | "
            + " | ".join(cells)
            + f" | {seed_mean([s['valid']['recall@20'] for s in runs])} | {epochs_cell(runs)} | {seconds_cell(runs)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--dataset",
        default="embedded",
        choices=["embedded", "ml100k"],
        help="embedded (default) or ml100k (+ Freebase + text features)",
    )
    ap.add_argument(
        "--seeds", default="2020,2021,2022", help="seeds of the baselines and the main models (default 2020,2021,2022)"
    )
    ap.add_argument(
        "--variant-seeds",
        default="2020,2021,2022",
        help="seeds of the dualkgat ablations (ml100k only; default 2020,2021,2022)",
    )
    ap.add_argument(
        "--models",
        default=",".join(BASELINES + MAIN),
        help="comma-separated models (default: baselines + kgat, kgin, acf, dualkgat)",
    )
    ap.add_argument(
        "--ablations",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run dualkgat's ablations (default: on for ml100k, off for embedded)",
    )
    ap.add_argument(
        "--pretrained-variant",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="embedded: also train dualkgat from TransR-pretrained embeddings (runs ckg pretrain on the store once; default on)",
    )
    ap.add_argument(
        "--interaction-only",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train kgat (and on ml100k the shipped dualkgat setting, with plain concat and with the layer mean) on a store of the interactions alone, to measure what the KG adds (default on)",
    )
    ap.add_argument(
        "--epochs", type=int, default=None, help="maximum epochs per run (default: 200 on embedded, 20 on ml100k)"
    )
    ap.add_argument(
        "--patience",
        type=int,
        default=None,
        help="early-stopping patience in epochs (default: 10 on embedded, 5 on ml100k)",
    )
    ap.add_argument(
        "--only-finished",
        action="store_true",
        help="train nothing: tabulate the finished runs and list the missing ones",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    ap.add_argument(
        "--list", action="store_true", help="print each experiment's name, label and ckg train command; run nothing"
    )
    args = ap.parse_args(argv)
    if args.epochs is None:
        args.epochs = 200 if args.dataset == "embedded" else 20
    if args.patience is None:  # 0 is a real value: never stop early
        args.patience = 10 if args.dataset == "embedded" else 5
    seeds = [int(s) for s in args.seeds.split(",")]
    vseeds = [int(s) for s in args.variant_seeds.split(",")]
    models = [m for m in args.models.split(",") if m]
    ablations = args.ablations if args.ablations is not None else args.dataset == "ml100k"
    runs_dir = WORK / "kg" / f"runs-{args.dataset}"
    variants = [
        experiments.load(bench(args.dataset), n)
        for n in variant_names(args.dataset, ablations, args.pretrained_variant)
    ]
    io_exps = (
        [experiments.load(bench(args.dataset), n) for n in INTERACTIONS_ONLY[args.dataset]]
        if args.interaction_only
        else []
    )
    if args.list:

        def limits(exp, seed):
            return {
                "seed": seed,
                "epochs": exp.limit("epochs", args.epochs),
                "patience": exp.limit("patience", args.patience),
                "threads": 1,
            }

        rows = [
            (
                e := setting(args.dataset, m),
                experiments.command(e, store_path(args.dataset), runs_dir / f"{m}-s{seeds[0]}", **limits(e, seeds[0])),
            )
            for m in models
            if not (args.dataset == "ml100k" and m in BASELINES)
        ]
        rows += [
            (
                e,
                experiments.command(
                    e, interaction_only_path(args.dataset), runs_dir / f"{e.name}-s{seeds[0]}", **limits(e, seeds[0])
                ),
            )
            for e in io_exps
        ]
        rows += [
            (
                e,
                experiments.command(
                    e,
                    store_path(args.dataset),
                    runs_dir / f"{e.name}-s{(s := _seeds_of(e, seeds, vseeds)[0])}",
                    **limits(e, s),
                ),
            )
            for e in variants
        ]
        print(experiments.listing(rows))
        return 0
    store = store_for(args.dataset)
    rows: list[tuple[str, list[dict]]] = []
    run_paths: list[str] = []
    notes: list[str] = []
    for model in models:
        if args.dataset == "ml100k" and model in BASELINES:
            base_store = WORK / "ml100k" / "store"
            found = [
                base for s in seeds if (base := WORK / "ml100k" / "runs" / f"{model}-s{s}" / "scores.json").is_file()
            ]
            if not found:
                notes.append(f"- {model}: no run of `bench_baselines_ml100k.py` found; run it first")
                continue
            if not same_split(base_store, store):
                raise SystemExit(f"{base_store} and {store} hold different splits; rebuild one of them")
            rows.append((model, [json.loads(p.read_text()) for p in found]))
            continue
        extra = setting(args.dataset, model).flags()
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
    if args.dataset == "embedded" and args.pretrained_variant:
        if not (store / "pretrained").is_dir():
            code, _, _ = run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from ckgrec.cli import main; sys.exit(main(sys.argv[1:]))",
                    "pretrain",
                    str(store),
                    "--quiet",
                ]
            )
            if code:
                raise SystemExit(f"ckg pretrain {store} failed ({code})")
    if args.interaction_only:
        ui = interaction_only_store(args.dataset)
        if not same_split(ui, store):
            raise SystemExit(f"{ui} and {store} hold different splits")
        # another store: same split, but not in the paired test (ckg compare pairs runs of one store)
        for exp in io_exps:
            what, epochs, patience = exp.label, exp.limit("epochs", args.epochs), exp.limit("patience", args.patience)
            rs = []
            for seed in seeds:
                try:
                    rs.append(
                        train_run(
                            ui,
                            runs_dir / f"{exp.name}-s{seed}",
                            exp.model,
                            seed,
                            exp.flags(skip=LIMITS),
                            epochs,
                            patience,
                            args.only_finished,
                        )
                    )
                except NotRun:
                    notes.append(
                        f"- {what} on the interaction-only graph, seed {seed}: not run (compute budget of this session)"
                    )
            if rs:
                left_out = (
                    "attributes, profiles, Freebase KG or text features"
                    if args.dataset == "ml100k"
                    else "attributes, concepts or profiles"
                )
                rows.append(
                    (f"{what} on the interaction graph only (no {left_out}; same split; not in the paired test)", rs)
                )
    for exp in variants:
        label = exp.label
        rs = []
        for seed in _seeds_of(exp, seeds, vseeds):
            out = runs_dir / f"{exp.name}-s{seed}"
            try:
                epochs, patience = exp.limit("epochs", args.epochs), exp.limit("patience", args.patience)
                rs.append(
                    train_run(store, out, exp.model, seed, exp.flags(skip=LIMITS), epochs, patience, args.only_finished)
                )
                run_paths.append(str(out))
            except NotRun:
                notes.append(f"- {label} seed {seed}: not run (compute budget of this session)")
        if rs:
            rows.append((label, rs))
    body = [
        f"Test split, mean ± std over seeds (column 'seeds'); early stopping on validation recall@20 (patience {args.patience}, at most "
        f"{args.epochs} epochs{' unless a row says otherwise' if any(e.has_limits() and e.label in {l for l, _ in rows} for e in variants) else ''}); one torch thread per run; s/epoch is sampling + training (all phases) without evaluation, on this shared "
        "2-core machine (noisy). Best mean per column in bold.",
        "",
        table(rows),
        "",
    ]
    used = [
        f"- {m}: `{' '.join((e := setting(args.dataset, m)).flags())}` — {e.why}"
        for m in SETTING_MODELS[args.dataset]
        if m in models or (ablations and m == "dualkgat")
    ]
    rescored = sum(bool(r.get("rescored")) for _, runs in rows for r in runs)
    if rescored:
        notes.append(
            f"- {rescored} kgat/dualkgat runs of this table were trained before 2026-11-27 and rescored with `ckg evaluate --rescore` "
            "(their final evaluation had paired the best epoch's weights with the last epoch's attention); their weights are unchanged"
        )
    shown = {label for label, _ in rows}
    used += [
        f"- {e.label}: `{' '.join(e.diff(setting(args.dataset, e.model)))}` on top of {e.model}'s settings"
        for e in variants
        if e.label in shown and e.name not in ABLATIONS
    ]
    body += [
        "Settings other than the model defaults:" if used else "All models at their defaults (`ckg models`).",
        *used,
        *notes,
    ]
    if args.dataset == "ml100k":
        body += [
            "",
            "The baseline rows are the runs of `bench_baselines_ml100k.py` (patience 10, at most 300 epochs) on the store built "
            "without text features; this script checked that it holds the same split as the store the KG models used.",
        ]
    if run_paths:
        from ckgrec.model.evaluation.compare import compare, format_table

        cmp = compare(run_paths, ["recall@20", "ndcg@20"], "test")
        body += [
            "",
            "`ckg compare` over the runs of this table (paired over test users, Wilcoxon signed-rank):",
            "",
            format_table(cmp),
        ]
        # the default reference leads on the first metric; a baseline leading on NDCG gets its own test
        import numpy as np

        means = {label: np.mean([r["test"]["ndcg@20"] for r in runs]) for label, runs in rows if label in BASELINES}
        ndcg_best = max(means, key=means.get) if means else None
        if (
            ndcg_best and ndcg_best != cmp.reference and any(g.label == ndcg_best for g in cmp.groups)
        ):  # ml100k: baselines are another store's runs
            again = compare(run_paths, ["ndcg@20", "recall@20"], "test", reference=ndcg_best)
            again.group_tables = []
            body += [
                "",
                f"The same runs against {ndcg_best}, the baseline with the best NDCG@20:",
                "",
                format_table(again),
            ]
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        from benchmarks.results import update_section

        title = (
            "KG models vs baselines on the embedded dataset (3 seeds, paired test)"
            if args.dataset == "embedded"
            else "KG models and dualkgat ablations on ML-100K + Freebase + text features"
        )
        update_section(
            f"kg-models-{args.dataset}", title, f"python benchmarks/bench_kg_models.py --dataset {args.dataset}", text
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
