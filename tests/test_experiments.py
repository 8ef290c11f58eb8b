"""The benchmarks' experiment files run the experiments the scripts' flag dicts ran.

``experiments_expected.json`` was generated once from the scripts as they were before the
conversion (label -> (model, [ckg train flags]) dicts of bench_kg_models.py, bench_dualkgat_sweep.py,
bench_baselines_ml100k.py, bench_coldstart.py): per row its label, model, the full flag list the
script passed (the model's settings included), its epoch/patience limits where the row had its own,
and the reason text. Each old flag list and each new experiment go through ``ckg train``'s own
parser and ``load_configs``, so "the same experiment" means the same TrainConfig and model Config,
and the same typed options.

Since then dualkgat was made lean, so the frozen flag lists are translated before the comparison
(:func:`_translate`): a dualkgat row gets dualkgat's old defaults first (the paper design,
``configs/paper.toml`` = ``shared/paper.toml``), since the row named only its deviations from
them; ``layer_norm`` / ``regularize`` go, as the aggregator now ties them (linear: no layer
normalisation, L2 on layer 0; bi: normalised layers, L2 on the final vectors), and a row only
passes if its values were that tie; ``relation_dim`` goes where it equalled ``dim``. The rows of
options removed outright (max_neighbours, dualkgat's kg_optimizer, schedule = joint, item_bias,
fusion = attention_sum / fusion_dim, user_content, content_score, attention_grad, init_std, and
layer_norm / regularize other than the aggregator's tie) were dropped from the json along with
their files and script entries; ``test_removed_options_left_no_row`` checks that none is left.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path

import pytest

from benchmarks import bench_baselines_ml100k as B
from benchmarks import bench_coldstart as C
from benchmarks import bench_dualkgat_sweep as S
from benchmarks import bench_kg_models as K
from benchmarks import bench_main_model as M
from benchmarks import experiments
from ckgrec.cli import train_cmd
from ckgrec.model.core.options import parse_assignments
from ckgrec.model.models.registry import get_model

EXPECTED = json.loads((Path(__file__).parent / "experiments_expected.json").read_text(encoding="utf-8"))
CONFIG_TABLES = ("train", "model")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    train_cmd.register(ap.add_subparsers())
    return ap


def _args(model: str, flags: list[str], config: Path | None = None) -> argparse.Namespace:
    return _parser().parse_args(
        ["train", "STORE", "--model", model, "--out", "RUN", *(["--config", str(config)] if config else []), *flags]
    )


# dualkgat's defaults before it was made lean, as flags: what a frozen dualkgat flag list was on top of
OLD_DUALKGAT_DEFAULTS = [
    *("--lr", "0.001", "--batch-size", "1024", "--l2", "0.01"),
    *("--set", "aggregator=bi", "--set", "edge_weights=attention", "--set", "fusion=attention_concat"),
    *("--set", "layer_dims=64,32,16", "--set", "dropout=0.3", "--set", "dimension_importance=true"),
    *("--set", "kg_weight=1.0", "--set", "init=auto", "--set", "knowledge_filter=false"),
]
# kgat's lr before its default moved from KGAT's 1e-3 to 2e-3: a frozen kgat flag list was on top of it
OLD_KGAT_DEFAULTS = ["--lr", "0.001"]
# what each aggregator now fixes (layer_norm, regularize); before, both models defaulted to bi's
TIED = {"linear": ("false", "ego"), "bi": ("true", "final")}
REMOVED = (
    "max_neighbours",
    "schedule",
    "item_bias",
    "fusion_dim",
    "user_content",
    "content_score",
    "attention_grad",
    "init_std",
)
REMOVED_FROM_DUALKGAT = ("kg_optimizer", "kg_triples", "side_edges", "kg_batch_size", "kg_l2")


class NotExpressible(ValueError):
    """An old flag list that sets an option the lean models no longer have."""


def _translate(model: str, flags: list[str], own: bool = False) -> list[str]:
    """The frozen (pre-lean) ``flags`` of a ``model`` row as today's flags (see the module docstring).

    ``own``: a row's own flags, on top of its base: no defaults are prepended and the tie is checked
    by the full flag list."""
    old = {"dualkgat": OLD_DUALKGAT_DEFAULTS, "kgat": OLD_KGAT_DEFAULTS}.get(model, []) if not own else []
    flags = [*old, *flags]
    out: list[str] = []
    sets: dict[str, str] = {}
    i = 0
    while i < len(flags):
        if flags[i] == "--set":
            key, value = flags[i + 1].split("=", 1)
            sets[key] = value
            if key in REMOVED or (key in REMOVED_FROM_DUALKGAT and model == "dualkgat") or value == "attention_sum":
                raise NotExpressible(f"{model}: {key}={value}")
            if key not in ("layer_norm", "regularize", "relation_dim"):
                out += flags[i : i + 2]
            i += 2
        else:
            out.append(flags[i])
            i += 1
    if not own and model in ("dualkgat", "kgat"):
        tie = (sets.get("layer_norm", "true"), sets.get("regularize", "final"))
        if tie != TIED[sets.get("aggregator", "bi")]:
            raise NotExpressible(
                f"{model}: aggregator={sets.get('aggregator', 'bi')} with layer_norm, regularize = {tie}"
            )
    if "relation_dim" in sets and sets["relation_dim"] != sets.get("dim", "64"):
        raise NotExpressible(f"{model}: relation_dim={sets['relation_dim']} beside dim={sets.get('dim', '64')}")
    return out


def _options(model: str, flags: list[str]) -> tuple[dict, dict]:
    """(train options, model options) that ``flags`` set, typed as ckg train types them."""
    a = _args(model, flags)
    train = {field: getattr(a, flag) for flag, field in train_cmd.FLAG_TO_FIELD.items() if getattr(a, flag) is not None}
    return train, parse_assignments(get_model(model).Config, a.set)


def _norm(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def _same(exp: experiments.Experiment, model: str, flags: list[str], limits=None, default_limits=None, where=""):
    """``exp`` trains what ``flags`` (frozen, + the row's ``limits``) trained: options and resolved configs."""
    assert exp.model == model, where
    flags = _translate(model, flags)
    train, opts = _options(model, flags)
    if limits:
        train.update(epochs=limits[0], patience=limits[1])
    got_train = dict(exp.train)
    if default_limits and not limits:  # the row has none of its own: it takes the table's
        assert not exp.has_limits(), where
    assert _norm(got_train) == _norm(train), where
    assert _norm(exp.options) == _norm(opts), where
    # and ckg train resolves both to the same configs: via the flags the script passes ...
    old = train_cmd.load_configs(
        _args(model, [*flags, *(["--epochs", str(limits[0]), "--patience", str(limits[1])] if limits else [])])
    )
    new = train_cmd.load_configs(_args(exp.model, exp.flags()))
    assert old[1:] == new[1:], where


def test_kg_models_rows_are_the_old_ones():
    rows = EXPECTED["kg-models"]
    for ds in ("embedded", "ml100k"):
        mine = [r for r in rows if r["dataset"] == ds]
        # each model's own row: options and the reason the table prints
        settings = [r for r in mine if r["kind"] == "setting"]
        assert [r["model"] for r in settings] == list(K.SETTING_MODELS[ds])
        for r in settings:
            exp = K.setting(ds, r["model"])
            _same(exp, r["model"], r["flags"], where=f"{ds} {r['model']}")
            assert exp.why == r["why"]
        # the interaction-only rows: labels, options, limits, run directory stems, in order
        io_rows = [r for r in mine if r["kind"] == "interactions-only"]
        assert [r["run"] for r in io_rows] == list(K.INTERACTIONS_ONLY[ds])
        for r in io_rows:
            exp = experiments.load(K.bench(ds), r["run"])
            assert exp.label == r["label"]
            _same(exp, r["model"], r["flags"], r["limits"], default_limits=True, where=f"{ds} {r['run']}")
        # the variants in table order (ablations on), seeds and limits
        variants = [r for r in mine if r["kind"] not in ("setting", "interactions-only")]
        names = K.variant_names(ds, ablations=True, pretrained_variant=True)
        assert len(names) == len(variants)
        for name, r in zip(names, variants):
            exp = experiments.load(K.bench(ds), name)
            assert exp.label == r["label"], name
            assert exp.meta.get("seeds", "variant") == r["seeds"], name
            assert (name in K.ABLATIONS) == (r["kind"] == "ablation"), name
            _same(exp, r["model"], r["flags"], r["limits"], default_limits=True, where=f"{ds} {name}")
            # the table's note: the variant's options on top of the model's settings (the old note's flags, less any the settings already set)
            own_train, own_opts = _options(r["model"], _translate(r["model"], r["own"], own=True))
            base = K.setting(ds, r["model"])
            note_train, note_opts = _options(r["model"], exp.diff(base))
            assert _norm(note_opts) == {k: v for k, v in _norm(own_opts).items() if _norm(base.options).get(k) != v}, (
                name
            )
            assert note_train == {
                k: v for k, v in own_train.items() if base.train.get(k) != v and k not in ("epochs", "patience")
            }, name
        assert len({r["label"] for r in variants}) == len(
            variants
        )  # run directories were label slugs: now the (unique) names
    # without --pretrained-variant / --ablations the rows are left out as before
    assert K.variant_names("embedded", ablations=False, pretrained_variant=False) == []
    assert K.variant_names("ml100k", ablations=False) == list(K.ML100K_VARIANTS)


def test_dualkgat_sweep_rows_are_the_old_ones():
    rows = EXPECTED["dualkgat-sweep"]
    groups = {
        ("embedded", "setting"): S.SETTINGS,
        ("embedded", "ladder"): S.LADDER,
        ("ml100k", "setting"): S.ML100K_SETTINGS,
    }
    for (ds, kind), names in groups.items():
        old = [r for r in rows if (r["dataset"], r["kind"]) == (ds, kind)]
        assert [r["name"] for r in old] == list(names)  # the file names are the old keys: run directories unchanged
        for r in old:
            exp = S._exp(r["name"], ds)
            assert exp.label == r["label"]
            if ds == "embedded":  # limits are the sweep's EPOCHS, PATIENCE
                assert (S.EPOCHS, S.PATIENCE) == tuple(r["limits"]) and not exp.has_limits()
                _same(exp, r["model"], r["flags"], where=r["name"])
            else:
                assert (exp.limit("epochs", 0), exp.limit("patience", 0)) == tuple(r["limits"]) == S.BASELINE_LIMITS
                _same(exp, r["model"], r["flags"], r["limits"], where=r["name"])
    # the kg-models runs the sweep reads: the ablations (by their new names) and the shipped rows
    old_ablations = EXPECTED["sweep-ablation-runs"]
    new_labels = {experiments.load("kg-models-embedded", n).label: label for n, label in S.ABLATION_RUNS.items()}
    assert sorted(new_labels) == sorted(old_ablations.values())
    assert experiments.load("kg-models-ml100k", S.SHIPPED).label.startswith("dualkgat, shipped setting (")
    for ds in ("embedded", "ml100k"):
        assert S.SHIPPED in experiments.names(K.bench(ds)) and S.SHIPPED_MEAN in experiments.names(K.bench(ds))


def test_baseline_and_coldstart_settings_are_the_old_ones():
    for r in EXPECTED["baselines"]:
        exp = B.setting(r["model"])
        _same(exp, r["model"], r["flags"], where=r["model"])
        assert exp.why == r["why"]
    assert experiments.names("baselines") == sorted(r["model"] for r in EXPECTED["baselines"])
    assert list(C.SETTINGS)[: len(EXPECTED["coldstart"])] == [r["name"] for r in EXPECTED["coldstart"]]
    for r in EXPECTED["coldstart"]:
        exp = C.setting(r["name"])
        _same(exp, r["model"], r["flags"], where=r["name"])
        assert exp.why == r["why"]
    # a column without a file trains its model at the defaults
    assert C.setting("mostpop").flags() == [] and C.setting("mostpop").model == "mostpop"


def _benchmark_dirs() -> list[str]:
    return sorted(p.name for p in experiments.ROOT.iterdir() if p.is_dir() and p.name != "shared")


@pytest.mark.parametrize("bench", _benchmark_dirs())
def test_every_file_is_a_ckg_train_config(bench, tmp_path):
    """[train] keys are TrainConfig fields, [model] keys the model's Config fields: the merged tables
    load through ``ckg train --config`` and give what the flags give."""
    for name in experiments.names(bench):
        exp = experiments.load(bench, name)
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(exp.config_toml(), encoding="utf-8")
        via_file = train_cmd.load_configs(_args(exp.model, [], cfg))
        via_flags = train_cmd.load_configs(_args(exp.model, exp.flags()))
        assert via_file[0] is via_flags[0] and via_file[1:] == via_flags[1:], name


def test_every_file_is_used():
    used = {
        "kg-models-embedded": {
            *K.SETTING_MODELS["embedded"],
            *K.INTERACTIONS_ONLY["embedded"],
            *K.variant_names("embedded", True, True),
        },
        "kg-models-ml100k": {
            *K.SETTING_MODELS["ml100k"],
            *K.INTERACTIONS_ONLY["ml100k"],
            *K.variant_names("ml100k", True),
        },
        "dualkgat-sweep": {*S.SETTINGS, *S.LADDER},
        "dualkgat-sweep-ml100k": set(S.ML100K_SETTINGS),
        "baselines": set(experiments.names("baselines")),
        "coldstart": set(C.SETTINGS),
        "main-model": set(M.ROWS),
    }
    assert set(_benchmark_dirs()) == set(used)
    for bench, names in used.items():
        assert set(experiments.names(bench)) == names, bench


def test_the_paper_rows_are_the_paper_config():
    """configs/paper.toml (the paper's design) is shared/paper.toml, the base of every dualkgat row measured
    before the lean config, and both are dualkgat's old defaults: the translation's prefix."""
    cfg = Path(__file__).resolve().parents[1] / "configs" / "paper.toml"
    paper = train_cmd.load_configs(_args("dualkgat", [], cfg))[1:]
    assert paper == train_cmd.load_configs(_args("dualkgat", experiments.load("shared", "paper").flags()))[1:]
    assert paper == train_cmd.load_configs(_args("dualkgat", OLD_DUALKGAT_DEFAULTS))[1:]
    # the table rows named dualkgat are that design with random init
    row = experiments.load("kg-models-embedded", "dualkgat")
    assert (
        train_cmd.load_configs(_args("dualkgat", ["--set", "init=random"], cfg))[1:]
        == (train_cmd.load_configs(_args("dualkgat", row.flags()))[1:])
    )


def test_main_model_rows_are_the_design_and_one_change_each():
    """bench_main_model.py's rows: dualkgat's defaults, the paper design (configs/paper.toml), each
    ablation one option away from the defaults, the baselines their model's own row."""
    assert experiments.load("main-model", "dualkgat").flags() == []
    cfg = Path(__file__).resolve().parents[1] / "configs" / "paper.toml"
    assert (
        train_cmd.load_configs(_args("dualkgat", [], cfg))[1:]
        == (train_cmd.load_configs(_args("dualkgat", experiments.load("main-model", "dualkgat-paper").flags()))[1:])
    )
    base = experiments.load("main-model", "dualkgat")
    for name in M.ABLATIONS:
        exp = experiments.load("main-model", name)
        assert exp.model == "dualkgat" and len(exp.diff(base)) == 2, name  # one --set
    for name in M.BASELINES:
        assert experiments.load("main-model", name).model == name


def test_removed_options_left_no_row():
    """Every frozen row left translates; a row of a removed option would not (its row went)."""
    for section, rows in EXPECTED.items():
        for r in rows if isinstance(rows, list) else []:
            _translate(r["model"], r["flags"])
    for model, flags in [
        ("dualkgat", ["--set", "max_neighbours=16"]),
        ("dualkgat", ["--set", "kg_optimizer=shared"]),
        ("dualkgat", ["--set", "fusion=attention_sum"]),
        ("dualkgat", ["--set", "layer_norm=false"]),  # bi with raw layers
        ("dualkgat", ["--set", "aggregator=linear"]),  # linear with normalised layers and L2 on the final vectors
        ("kgat", ["--set", "regularize=ego"]),
        ("dualkgat", ["--set", "relation_dim=32"]),
    ]:
        with pytest.raises(NotExpressible):
            _translate(model, flags)
    old = OLD_KGAT_DEFAULTS  # a frozen kgat row keeps the lr it was measured at
    assert _translate("kgat", ["--set", "kg_optimizer=shared"]) == [
        *old,
        "--set",
        "kg_optimizer=shared",
    ]  # kgat keeps it
    assert _translate(
        "kgat", ["--set", "aggregator=linear", "--set", "layer_norm=false", "--set", "regularize=ego"]
    ) == [*old, "--set", "aggregator=linear"]


def test_loader_errors_name_the_closest_key(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "ROOT", tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "fast.toml").write_text("[train]\nlr = 0.01\n")
    (tmp_path / "b" / "ok.toml").write_text('[experiment]\nmodel = "bprmf"\nbase = "fast"\n[train]\nbatch_size = 512\n')
    exp = experiments.load("b", "ok")
    assert exp.train == {"lr": 0.01, "batch_size": 512} and exp.label == "ok"
    assert exp.flags() == ["--lr", "0.01", "--batch-size", "512"]
    cases = {
        "t1": ('[experiment]\nmodel = "bprmf"\n[train]\nbatch_sise = 512\n', "batch_size"),
        "t2": ('[experiment]\nmodel = "bprmf"\nlabl = "x"\n', "label"),
        "t3": ('[experiment]\nmodel = "bprmf"\n[trian]\nlr = 0.1\n', "train"),
        "t4": ('[experiment]\nmodel = "dualkgat"\n[model]\nfusoin = "mean"\n', "fusion"),
    }
    for name, (text, hint) in cases.items():
        (tmp_path / "b" / f"{name}.toml").write_text(text)
        with pytest.raises(experiments.ExperimentError, match=f"did you mean '{hint}'"):
            experiments.load("b", name)
    with pytest.raises(experiments.ExperimentError, match="did you mean 'ok'"):
        experiments.load("b", "okk")


@pytest.mark.parametrize(
    "script, argv",
    [
        (K, ["--dataset", "embedded", "--list"]),
        (K, ["--dataset", "ml100k", "--list"]),
        (S, ["--list"]),
        (S, ["--dataset", "ml100k", "--list"]),
        (B, ["--list"]),
        (C, ["--list"]),
        (M, ["--list"]),
        (M, ["--dataset", "ml100k-20pct", "--tune", "5", "--list"]),
    ],
)
def test_list_runs_nothing(script, argv, monkeypatch):
    ran = []
    for name in ("run", "store_for", "interaction_only_store", "build_store", "train_run", "run_tune", "pretrain"):
        if hasattr(script, name):
            monkeypatch.setattr(script, name, lambda *a, **k: ran.append(a))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert script.main(argv) == 0
    assert not ran
    out = buf.getvalue()
    assert out.count("ckg train ") >= 6
    if script is K and "ml100k" in argv:
        assert "dualkgat-shipped-mean-batch-1024-s2020" in out and "--batch-size 1024" in out
