"""The main model, dualkgat, against the baselines and its own ablations, full ranking, 3 seeds.

One table per dataset, each a block of ``benchmarks/results/main-model.md``:

* ``embedded``: the embedded synthetic dataset (users, items, attributes, concepts, features);
* ``ml100k``: ML-100K (RecBole atomic files) + its Freebase KG + the items' text features, the
  store ``bench_kg_models.py --dataset ml100k`` builds (and shares);
* ``ml100k-20pct``: the same files built with ``[build.split] train_fraction = 0.2`` (each user
  keeps a fifth of its training pairs, valid/test as before: ``configs/ml100k-20pct.toml``);
* ``tiktok-sample``: the MMGCN-format TikTok sample of ``../shared/datasets/tiktok-sample``
  (visual and acoustic vectors, the words of the text as an item attribute; see its SOURCE.txt).

Rows (files ``benchmarks/experiments/main-model/<name>.toml``): dualkgat at its defaults, the
paper's design (``configs/paper.toml``), the ablations (without G_i, without G_u, without the
knowledge filter, without raw features, with dimension importance, with layer attention, with
TransR pretraining, L = 1, 2, 4) and the baselines. The rows whose init is ``pretrained`` or
``auto`` (the pretraining row, the paper row) get ``ckg pretrain`` on the store first, once.
The multimodal baselines (``freedom``, ``vbpr``, ``featknn``, ``acf``) need feature vectors and
are left out on a store without any.

A baseline trains with its tuned settings when ``benchmarks/work/tune/<dataset>/<model>/best.toml``
(written by ``ckg tune``) exists, else with its row (the model's defaults, or the deviations the
row states and why); the table says which. ``--tune TRIALS`` first runs ``ckg tune`` (seed 2020,
the table's epoch and patience limits, one thread) for every baseline that has a search space,
with the row's options outside that space fixed; a study already there continues up to TRIALS.
The dualkgat rows are not tuned.

Each run is ``ckg train`` in its own process with one torch thread, early stopping on validation
Recall@20, reused when finished (``benchmarks/work/main-model/<dataset>/runs/<name>-s<seed>``;
``-tuned-s<seed>`` for a tuned baseline). Below the table, ``ckg compare``'s paired per-user
Wilcoxon test of every row against the strongest baseline (by mean test Recall@20).

``--only`` tabulates a subset and writes nothing, unless ``--later-rows``: then the subset becomes
the block "DATASET, later rows" below the dataset's table, for rows a full run did not reach (its
own date and command; include the strongest baseline, the reference of its paired test). A later
full run of the dataset drops that block once its table has every row of it.

    python benchmarks/bench_main_model.py --dataset embedded --list     # the rows and their commands
    python benchmarks/bench_main_model.py --dataset ml100k --tune 30
    python benchmarks/bench_main_model.py --smoke --only dualkgat,ease  # 1 seed, 2 epochs, embedded, writes nothing
    python benchmarks/bench_main_model.py --dataset ml100k --tune 12 --only kgat,kgin,ease,dualkgat --later-rows
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import experiments, results  # noqa: E402
from benchmarks.bench_baselines_ml100k import run  # noqa: E402
from benchmarks.bench_kg_models import NotRun, train_run  # noqa: E402
from benchmarks.results import TEST_METRICS, epochs_cell, seconds_cell, seed_mean, test_cells  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"
WORK = ROOT / "benchmarks" / "work"
BENCH = "main-model"
DATASETS = ("embedded", "ml100k", "ml100k-20pct", "tiktok-sample")
TRAIN_FRACTION = 0.2  # ml100k-20pct

MAIN = ("dualkgat", "dualkgat-paper")
ABLATIONS = (
    "dualkgat-no-item-side",
    "dualkgat-no-user-side",
    "dualkgat-no-filter",
    "dualkgat-no-features",
    "dualkgat-dim-importance",
    "dualkgat-layer-attention",
    "dualkgat-pretrained",
    "dualkgat-L1",
    "dualkgat-L2",
    "dualkgat-L4",
)
# by family: graph CF, linear and neighbourhood, multimodal, KG, MF and neural CF, popularity
BASELINES = (
    *("lightgcn", "simgcl", "ngcf"),
    *("ease", "itemknn", "rp3beta"),
    *("freedom", "vbpr", "featknn", "acf"),
    *("kgat", "kgin"),
    *("bprmf", "neumf", "mostpop"),
)
ROWS = MAIN + ABLATIONS + BASELINES  # table order
NEEDS_FEATURES = ("freedom", "vbpr", "featknn", "acf")
LIMITS = ("epochs", "patience")
# (epochs, patience) per dataset: the embedded and TikTok tables as kg-models-embedded, ML-100K as its baselines
DEFAULT_LIMITS = {"embedded": (200, 10), "ml100k": (300, 10), "ml100k-20pct": (300, 10), "tiktok-sample": (200, 10)}
SMOKE = {"seeds": [2020], "epochs": 2, "patience": 2}
TUNE_SEED = 2020
CKG = [sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main(sys.argv[1:]))"]


def row(name: str) -> experiments.Experiment:
    return experiments.load(BENCH, name)


def work_dir(dataset: str, smoke: bool = False) -> Path:
    return WORK / BENCH / ("smoke" if smoke else dataset)


def store_path(dataset: str, smoke: bool = False) -> Path:
    """Where :func:`store_for` puts ``dataset``'s store (embedded and ml100k are bench_kg_models.py's)."""
    if smoke:  # its own store: a 2-epoch pretraining must not land in the real one
        return work_dir(dataset, smoke) / "store"
    return {
        "embedded": WORK / "embedded" / "store",
        "ml100k": WORK / "kg" / "ml100k-text",
        "ml100k-20pct": WORK / "kg" / "ml100k-text-20pct",
        "tiktok-sample": WORK / "kg" / "tiktok-sample",
    }[dataset]


def _train_fraction_config():
    from ckgrec.kgbuild.config import BuildConfig, SplitConfig

    if "train_fraction" not in {f.name for f in dataclasses.fields(SplitConfig)}:
        raise SystemExit(
            "--dataset ml100k-20pct needs train_fraction: kgbuild's [build.split] has no train_fraction option in this checkout"
        )
    cfg = BuildConfig()
    return dataclasses.replace(cfg, split=dataclasses.replace(cfg.split, train_fraction=TRAIN_FRACTION))


def store_for(dataset: str, smoke: bool = False) -> Path:
    """Build (once) the store ``dataset``'s rows train on."""
    out = store_path(dataset, smoke)
    if dataset in ("embedded", "ml100k") and not smoke:
        from benchmarks.bench_kg_models import store_for as kg_store

        return kg_store(dataset)
    if (out / "manifest.json").exists():
        return out
    from ckgrec.kgbuild.build import build

    config, extra = None, None
    if dataset == "embedded":
        from ckgrec.kgbuild.embedded import embedded_dataset_dir

        source = Path(embedded_dataset_dir())
    elif dataset == "ml100k-20pct":
        config = _train_fraction_config()
        source, extra = SHARED / "ml-100k-recbole", {"text": str(SHARED / "ml-100k-features")}
    else:
        source = SHARED / "tiktok-sample"
    if not source.exists():
        raise SystemExit(f"dataset not found: {source}")
    build(source, out, config=config, extra_features=extra, force=True)
    return out


def needs_pretrain(exp: experiments.Experiment) -> bool:
    return exp.model in ("dualkgat", "kgat") and exp.options.get("init") in ("pretrained", "auto")


def pretrain_command(store: Path, smoke: bool) -> list[str]:
    return ["pretrain", str(store), "--quiet", "--threads", "1", *(["--epochs", "2"] if smoke else [])]


def pretrain(store: Path, smoke: bool) -> None:
    if (store / "pretrained").is_dir():
        return
    code, _, _ = run([*CKG, *pretrain_command(store, smoke)])
    if code:
        raise SystemExit(f"ckg pretrain {store} failed ({code})")


# ---- tuning -------------------------------------------------------------------------------------


def tune_dir(dataset: str, model: str, smoke: bool = False) -> Path:
    return (work_dir(dataset, smoke) / "tune" / model) if smoke else WORK / "tune" / dataset / model


def tunable(model: str) -> bool:
    from ckgrec.model.models.registry import get_model

    return bool(getattr(get_model(model), "search_space", None))


def fixed_tables(exp: experiments.Experiment) -> tuple[dict, dict]:
    """The row's [train] and [model] options outside the model's search space: fixed in its study."""
    from ckgrec.model.models.registry import get_model

    space = getattr(get_model(exp.model), "search_space", None) or {}
    train = {k: v for k, v in exp.train.items() if k not in space and k not in LIMITS}
    return train, {k: v for k, v in exp.options.items() if k not in space}


def tune_command(exp: experiments.Experiment, store: Path, out: Path, trials: int, epochs: int, patience: int):
    cmd = ["tune", str(store), "--model", exp.model, "--trials", str(trials), "--out", str(out)]
    cmd += ["--seed", str(TUNE_SEED), "--epochs", str(epochs), "--patience", str(patience), "--threads", "1", "--quiet"]
    train, model = fixed_tables(exp)
    if train or model:
        cmd += ["--config", str(out.parent / f"{out.name}.fixed.toml")]
    return cmd


def run_tune(exp: experiments.Experiment, store: Path, out: Path, trials: int, epochs: int, patience: int) -> None:
    train, model = fixed_tables(exp)
    if train or model:
        out.parent.mkdir(parents=True, exist_ok=True)
        fixed = dataclasses.replace(exp, train=train, options=model)
        (out.parent / f"{out.name}.fixed.toml").write_text(fixed.config_toml(), encoding="utf-8")
    code, secs, _ = run([*CKG, *tune_command(exp, store, out, trials, epochs, patience)])
    if code:
        raise SystemExit(f"ckg tune {exp.model} on {store} failed ({code})")
    print(f"tuned {exp.model}: {trials} trials, {secs:.0f} s -> {out / 'best.toml'}", flush=True)


def tuned(dataset: str, exp: experiments.Experiment, smoke: bool = False) -> tuple[Path, dict] | None:
    """(best.toml, summary.json) of ``exp``'s model on ``dataset`` if ``ckg tune`` wrote them."""
    if exp.name not in BASELINES:
        return None
    d = tune_dir(dataset, exp.model, smoke)
    if not (d / "best.toml").is_file():
        return None
    summary = json.loads((d / "summary.json").read_text()) if (d / "summary.json").is_file() else {}
    return d / "best.toml", summary


def tuned_note(best: Path, summary: dict) -> str:
    b = summary.get("budget", {})
    where = best.relative_to(ROOT) if best.is_relative_to(ROOT) else best
    got = f", best valid {summary['valid_metric']} {summary['best']['valid']:.4f}" if summary.get("best") else ""
    return (
        f"tuned: `ckg tune`, {b.get('complete', '?')} complete of {b.get('trials_requested', '?')} trials, seed "
        f"{summary.get('seed', '?')}{got} (`{where}`)"
    )


# ---- the plan -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Plan:
    exp: experiments.Experiment
    flags: list[str]  # ckg train options, limits aside
    stem: str  # run directory stem; -s<seed> follows
    setting: str  # what the table's setting column says
    note: str  # the settings line below the table ('' for none)
    summary: dict | None = None


def plan(dataset: str, exp: experiments.Experiment, smoke: bool = False) -> Plan:
    t = tuned(dataset, exp, smoke)
    if t is not None:
        best, summary = t
        trials = summary.get("budget", {}).get("complete", "?")
        return Plan(
            exp,
            ["--config", str(best)],
            f"{exp.name}-tuned",
            f"tuned ({trials} trials)",
            tuned_note(best, summary),
            summary,
        )
    flags = exp.flags(skip=LIMITS)
    if exp.name in BASELINES:
        setting = "defaults" if not flags else "row"
        note = f"`{' '.join(flags)}` — {exp.why}" if flags else ""
        return Plan(exp, flags, exp.name, setting, note)
    base = row("dualkgat")
    setting = "defaults" if not flags else "paper" if exp.name == "dualkgat-paper" else "ablation"
    return Plan(exp, flags, exp.name, setting, " ".join(exp.diff(base)))


def _filter_cells(runs: list[dict]) -> str:
    """dualkgat's knowledge filter as chosen on validation: share s of the filter in the score (0 = the graph alone,
    1 = the filter alone) and the graph score's own validation recall@20, mean over seeds."""
    chosen = [r["selected_on_validation"] for r in runs if r.get("selected_on_validation")]
    if not chosen or "filter_share" not in chosen[0]:
        return "— | —"
    share = sum(c["filter_share"] for c in chosen) / len(chosen)
    graph = [c["valid_graph_only"] for c in chosen if c.get("valid_graph_only") is not None]
    return f"{share:.2f} | " + (seed_mean(graph) if len(graph) == len(chosen) else "—")


def table(rows: list[tuple[Plan, list[dict]]]) -> str:
    lines = [
        "| row | setting | seeds | "
        + " | ".join(TEST_METRICS)
        + " | valid recall@20 | filter share s | valid recall@20, graph alone | epochs (best) | s/epoch |",
        "|---|---|---|" + "---|" * (len(TEST_METRICS) + 5),
    ]
    for (p, runs), cells in zip(rows, test_cells([runs for _, runs in rows])):
        lines.append(
            f"| {p.exp.label} | {p.setting} | {len(runs)} | "
            + " | ".join(cells)
            + f" | {seed_mean([s['valid']['recall@20'] for s in runs])} | {_filter_cells(runs)} | {epochs_cell(runs)} | "
            + f"{seconds_cell(runs)} |"
        )
    return "\n".join(lines)


LATER = results.LATER_ROWS


def _blocks(text: str) -> dict[str, str]:
    """main-model.md's blocks by heading: each dataset's and its ``<dataset>, later rows``; a '### ' line
    inside a block (any other heading) stays part of the block above it."""
    names = {*DATASETS, *(d + LATER for d in DATASETS)}
    blocks: dict[str, str] = {}
    current = None
    for part in text.split("\n### ")[1:]:
        name = part.split("\n", 1)[0].strip()
        if name in names:
            current, blocks[name] = name, "### " + part.strip()
        elif current is not None:
            blocks[current] += "\n### " + part.strip()
    return blocks


def row_labels(block: str) -> set[str]:
    """The row labels of a block's first table (its first column)."""
    return {cells[0] for cells in results.markdown_table(block, "| row |")[1]}


def merged_results(dataset: str, block: str, later: bool = False) -> str:
    """main-model.md's body with ``dataset``'s block replaced, the other datasets' blocks kept.

    ``later``: ``block`` is the dataset's "later rows" block (rows its full run did not reach); its
    table stays. A full block replaces the dataset's later rows too once it has every one of them.
    """
    from benchmarks.results import section_path

    path = section_path(BENCH)
    blocks = _blocks(path.read_text(encoding="utf-8")) if path.is_file() else {}
    name = dataset + (LATER if later else "")
    blocks[name] = f"### {name}\n\n{block.strip()}"
    if not later and row_labels(blocks.get(dataset + LATER, "")) <= row_labels(block):
        blocks.pop(dataset + LATER, None)
    intro = (
        "dualkgat (defaults), its paper design, its ablations and the baselines per dataset, each block written by "
        "`python benchmarks/bench_main_model.py --dataset DATASET` (its own date below its heading); a block "
        "'DATASET, later rows' holds rows that the dataset's full run did not reach, run later with `--later-rows`."
    )
    order = [n for d in DATASETS for n in (d, d + LATER)]
    return "\n\n".join([intro, *(blocks[n] for n in order if n in blocks)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="embedded", choices=DATASETS, help="which table (default embedded)")
    ap.add_argument("--seeds", default="2020,2021,2022", help="comma-separated seeds (default 2020,2021,2022)")
    ap.add_argument("--only", default="", help=f"comma-separated rows to run (default all): {', '.join(ROWS)}")
    ap.add_argument("--epochs", type=int, default=None, help="maximum epochs per run (default 200; ML-100K 300)")
    ap.add_argument("--patience", type=int, default=None, help="early-stopping patience in epochs (default 10)")
    ap.add_argument(
        "--tune",
        type=int,
        default=0,
        metavar="TRIALS",
        help="first run ckg tune (TRIALS trials, seed 2020) for every baseline with a search space, then train with its best.toml",
    )
    ap.add_argument(
        "--only-finished", action="store_true", help="train nothing: tabulate the finished runs, list the missing ones"
    )
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="prove the script works: 1 seed, 2 epochs (patience 2), the embedded data in a store of its own "
        "(benchmarks/work/main-model/smoke), nothing written to benchmarks/results/",
    )
    ap.add_argument(
        "--reselect",
        action="store_true",
        help="finished dualkgat runs choose their knowledge filter again with the current grid (ckg train "
        "--reselect: what retraining would give, without training); other runs are read as they are",
    )
    ap.add_argument(
        "--later-rows",
        action="store_true",
        help="with --only: write the --only rows as the block 'DATASET, later rows' below the dataset's table (for "
        "rows its full run did not reach; include a baseline: the paired test is against the strongest one among "
        "them, and dualkgat to compare the two runs)",
    )
    ap.add_argument(
        "--note",
        action="append",
        default=[],
        metavar="TEXT",
        help="a line for the block's notes (repeatable): how rows were run when it was not by this command alone",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    ap.add_argument("--list", action="store_true", help="print each row's name, label and ckg command(s); run nothing")
    args = ap.parse_args(argv)
    smoke = args.smoke
    if args.later_rows and not args.only:
        raise SystemExit("--later-rows needs --only: the rows to add")
    if smoke:
        if args.dataset != "embedded":
            raise SystemExit("--smoke runs on the embedded data only")
        seeds, epochs, patience = SMOKE["seeds"], SMOKE["epochs"], SMOKE["patience"]
        if args.epochs is not None:
            epochs = args.epochs
    else:
        seeds = [int(s) for s in args.seeds.split(",") if s]
        epochs, patience = DEFAULT_LIMITS[args.dataset]
        epochs = args.epochs if args.epochs is not None else epochs
    patience = args.patience if args.patience is not None else patience
    names = [n for n in args.only.split(",") if n] or list(ROWS)
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise SystemExit(f"--only: unknown row(s) {', '.join(unknown)}; known: {', '.join(ROWS)}")
    names = [n for n in ROWS if n in names]  # table order
    exps = [row(n) for n in names]
    runs_dir = work_dir(args.dataset, smoke) / "runs"
    st_path = store_path(args.dataset, smoke)
    to_tune = [e for e in exps if e.name in BASELINES and tunable(e.model)] if args.tune else []

    if args.list:
        lines = []
        for e in to_tune:
            cmd = [
                "ckg",
                *tune_command(e, st_path, tune_dir(args.dataset, e.model, smoke), args.tune, epochs, patience),
            ]
            lines.append(f"tune {e.model}\n  {shlex.join(cmd)}")
        if any(needs_pretrain(e) for e in exps):
            lines.append(f"pretrain (before {', '.join(e.name for e in exps if needs_pretrain(e))})")
            lines.append(f"  {shlex.join(['ckg', *pretrain_command(st_path, smoke)])}")
        for e in exps:
            p = plan(args.dataset, e, smoke)
            if to_tune and e in to_tune:  # after --tune it trains with the best.toml
                best = tune_dir(args.dataset, e.model, smoke) / "best.toml"
                p = Plan(e, ["--config", str(best)], f"{e.name}-tuned", "tuned", "")
            out = runs_dir / f"{p.stem}-s{seeds[0]}"
            cmd = ["ckg", "train", str(st_path), "--model", e.model, "--out", str(out), "--seed", str(seeds[0])]
            cmd += ["--epochs", str(epochs), "--patience", str(patience), "--threads", "1", *p.flags]
            extra = " (left out on a store without feature vectors)" if e.model in NEEDS_FEATURES else ""
            lines.append(f"{e.name}\n  {e.label} [{p.setting}]{extra}\n  {shlex.join(cmd)}")
        print("\n".join(lines))
        print(f"seeds {', '.join(map(str, seeds))}; at most {epochs} epochs, patience {patience}; store {st_path}")
        return 0

    store = store_for(args.dataset, smoke)
    from ckgrec.schemas.store import Store

    st = Store.open(store)
    has_features = bool(st.modalities)
    notes: list[str] = [f"- note: {n}" for n in args.note]
    if not has_features and any(e.model in NEEDS_FEATURES for e in exps):
        notes.append(
            f"- {', '.join(m for m in NEEDS_FEATURES if m in names)}: left out (the store has no feature vectors)"
        )
        exps = [e for e in exps if e.model not in NEEDS_FEATURES]
        to_tune = [e for e in to_tune if e.model not in NEEDS_FEATURES]
    for e in to_tune:
        if args.only_finished:
            break
        run_tune(e, store, tune_dir(args.dataset, e.model, smoke), args.tune, epochs, patience)
    if any(needs_pretrain(e) for e in exps) and not args.only_finished:
        pretrain(store, smoke)

    rows: list[tuple[Plan, list[dict]]] = []
    run_paths: list[str] = []
    for e in exps:
        p = plan(args.dataset, e, smoke)
        if p.summary and p.summary.get("store_fingerprint") not in (None, st.fingerprint):
            raise SystemExit(
                f"{p.flags[-1]} was tuned on another store (fingerprint {p.summary['store_fingerprint']}, this one "
                f"{st.fingerprint}): move {Path(p.flags[-1]).parent} away, or tune again with --tune"
            )
        rs = []
        for seed in seeds:
            out = runs_dir / f"{p.stem}-s{seed}"
            try:
                reselect = args.reselect and e.model == "dualkgat" and not args.only_finished
                rs.append(train_run(store, out, e.model, seed, p.flags, epochs, patience, args.only_finished, reselect))
                run_paths.append(str(out))
            except NotRun:
                notes.append(f"- {e.label}, seed {seed}: not run yet")
        if rs:
            rows.append((p, rs))
    if not rows:
        print("no finished runs")
        return 0

    label = {p.exp.name: p.exp.label for p, _ in rows}
    body = [
        f"Store `{store.relative_to(ROOT) if store.is_relative_to(ROOT) else store}` ({st.counts['users']} users, "
        f"{st.counts['items']} items). Test split, mean ± std over seeds (column 'seeds'); early stopping on validation "
        f"recall@20 (patience {patience}, at most {epochs} epochs); one torch thread per run; s/epoch is sampling + training "
        "without evaluation, on a shared machine (noisy). Best mean per column in bold. Setting: 'defaults' = the model's "
        "defaults (`ckg models`), 'row' = the deviations listed below (and why), 'tuned' = the best.toml of `ckg tune` "
        "(named below), 'ablation' = dualkgat's defaults with the change the row names, 'paper' = configs/paper.toml. "
        "Filter share s: the weight of dualkgat's knowledge filter in its score, chosen on validation after training "
        "(0 = the graph score alone, 1 = the filter alone: then the graph rows cannot differ), beside the graph score's "
        "own validation recall@20.",
        "",
        table(rows),
        "",
    ]
    settings = [f"- {label[p.exp.name]}: {p.note}" for p, _ in rows if p.note and p.exp.name in BASELINES]
    settings += [f"- {label[p.exp.name]}: `{p.note}`" for p, _ in rows if p.note and p.exp.name not in BASELINES]
    body += ["Settings:" if settings else "Every row at its model's defaults.", *settings, *notes]
    base_rows = [(p, runs) for p, runs in rows if p.exp.name in BASELINES]
    if run_paths and base_rows:
        import numpy as np

        from ckgrec.model.evaluation.compare import compare, format_table

        def strongest(metric: str) -> str:
            return max(base_rows, key=lambda r: np.mean([s["test"][metric] for s in r[1]]))[0].exp.model

        ref = strongest("recall@20")
        cmp = compare(run_paths, ["recall@20", "ndcg@20"], "test", reference=ref)
        body += [
            "",
            f"`ckg compare` over the runs of this table against {ref}, the strongest baseline by mean test recall@20 "
            "(paired over test users, Wilcoxon signed-rank):",
            "",
            format_table(cmp),
        ]
        ndcg_ref = strongest("ndcg@20")
        if ndcg_ref != ref:
            again = compare(run_paths, ["ndcg@20", "recall@20"], "test", reference=ndcg_ref)
            again.group_tables = []
            body += [
                "",
                f"The same runs against {ndcg_ref}, the baseline with the best NDCG@20:",
                "",
                format_table(again),
            ]
    if args.later_rows:
        body[:0] = [
            f"Rows that the {args.dataset} table above lists as not run yet, run later with the code of the date below "
            "on the same store, limits and tuning budget. The paired test is against the strongest baseline among "
            "these rows; a row that is also in the table above was run again here, so the two runs can be compared.",
            "",
        ]
    text = "\n".join(body)
    print(text)
    write = not (args.no_write or smoke) and (args.later_rows or not args.only)
    if write:
        import datetime as dt

        from benchmarks.results import machine, update_section

        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        command = f"python benchmarks/bench_main_model.py --dataset {args.dataset}" + (
            f" --tune {args.tune}" if args.tune else ""
        )
        if args.later_rows:
            command += f" --only {','.join(names)} --later-rows"
        block = f"- command: `{command}`\n- machine: {machine()}\n- date: {stamp}\n\n{text}"
        update_section(
            BENCH,
            "The main model (dualkgat) against the baselines and its ablations",
            "python benchmarks/bench_main_model.py --dataset DATASET",
            merged_results(args.dataset, block, later=args.later_rows),
        )
    elif args.only and not (args.no_write or smoke):
        print(
            "\n(--only: a partial table, not written to benchmarks/results/; --later-rows writes it as its own block)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
