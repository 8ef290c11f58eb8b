"""``ckg tune``: an Optuna study over a model's declared search space, one run directory per trial.

Layout of ``OUT``::

    OUT/study.db          Optuna's RDB storage (SQLite): the study resumes from it
    OUT/trials/<n>/       trial n: a normal ``ckg train`` run directory (``ckg evaluate`` reads it)
    OUT/best.toml         [train] and [model] of the best trial; ``ckg train --config`` reads it
    OUT/summary.json      budget spent, every trial, the chosen values and the best trial's test scores

Selection uses the validation split only: each trial trains with early stopping on
``valid_metric``, reports that value after every evaluation (the pruner may stop it there) and is
scored by the validation value of its best epoch. Trials never evaluate the test split
(``evaluate_test=False``); once the study is done, the best trial's run is evaluated on test, once.

Trial 0 is the model's defaults (each searched parameter whose default lies in its range; the
others drawn), so the study's best is never worse on validation than the untuned model. Sampling
is reproducible: trial n draws from a :class:`optuna.samplers.TPESampler` seeded by (``seed``, n),
so the same seed, store and settings sample the same values, also across an interruption (TPE's
draws depend on the finished trials, which are in ``study.db``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ckgrec.model.core.search_space import Categorical
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.registry import get_model
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train
from ckgrec.model.tuning.config import TuneConfig
from ckgrec.model.tuning.space import check_space, decode, split_tables, suggest
from ckgrec.schemas.config_io import from_mapping, to_dict
from ckgrec.schemas.errors import ConfigError, UnsafeOutputError
from ckgrec.schemas.store import atomic_write_bytes

Log = Callable[[str], None]
STUDY_DB = "study.db"
TRIALS = "trials"
BEST_TOML = "best.toml"
SUMMARY = "summary.json"
LOCK = ".tune.lock"
_NOT_SETTINGS = ("device", "threads")  # trainer keys that do not change what a trial computes


def trial_seed(seed: int, number: int) -> int:
    """The TPE sampler's seed for trial ``number`` of a study seeded ``seed``."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"cannot write {v} to TOML")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise ConfigError(f"cannot write {type(v).__name__} {v!r} to TOML")


def toml_text(tables: Mapping[str, Mapping[str, Any]], header: list[str]) -> str:
    lines = [f"# {h}" for h in header]
    for name, table in tables.items():
        lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def default_params(space: Mapping[str, Any], train: TrainConfig, model: Any) -> dict[str, Any]:
    """Optuna params of the defaults in ``train`` (resolved) and ``model`` (a Config) for the parameters of
    ``space`` that can take them: in range, on the step grid, among the choices (categorical ones by label).
    ``ckg tune`` enqueues them as trial 0."""
    params: dict[str, Any] = {}
    for name, p in space.items():
        v = getattr(train if p.table == "train" else model, name)
        if isinstance(p, Categorical):
            if v in p.choices:
                params[name] = Categorical.label(v)
        elif v is not None and p.low <= v <= p.high:
            step = getattr(p, "step", None)
            if not step or abs((v - p.low) / step - round((v - p.low) / step)) < 1e-9:
                params[name] = v
    return params


class _Study:
    """One study in OUT: its settings, the trial loop and what it writes."""

    def __init__(
        self,
        data: TrainData,
        model_name: str,
        out: Path,
        tc: TuneConfig,
        train_table: dict[str, Any],
        model_table: dict[str, Any],
        log: Log,
        train_log: Log | None,
        pruner: Any,
    ):
        import optuna

        self.optuna = optuna
        self.data, self.out, self.tc, self.log, self.train_log = data, out, tc, log, train_log
        self.cls = get_model(model_name)
        check_space(self.cls)
        if "seed" in train_table:
            raise ConfigError(
                "[train] seed: a study seeds its trials with its own seed (--seed / [tune] seed); leave seed out of [train]"
            )
        self.train_table = dict(train_table)
        self.model_table = dict(model_table)
        self.fixed = sorted(k for k in self.cls.search_space if k in self.train_table or k in self.model_table)
        self.space = {k: p for k, p in self.cls.search_space.items() if k not in self.fixed}
        if not self.space:
            why = (
                f"every parameter of its search space is fixed ({', '.join(self.fixed)})"
                if self.fixed
                else "it declares no search space"
            )
            raise ConfigError(f"{self.cls.name}: nothing to tune: {why} (see 'ckg models {self.cls.name}')")
        # the trainer config of every trial, checked before any trial runs
        self.base_train = from_mapping(TrainConfig, {**self.train_table, "seed": tc.seed}, "[train]")
        self.metric = self.base_train.valid_metric
        from_mapping(self.cls.Config, self.model_table, f"[model] ({self.cls.name})")
        if pruner is None:
            pruner = (
                optuna.pruners.MedianPruner(n_startup_trials=tc.prune_startup, n_warmup_steps=tc.prune_warmup)
                if tc.pruner == "median"
                else optuna.pruners.NopPruner()
            )
        self.pruner = pruner
        self.settings = {
            "model": self.cls.name,
            "store_fingerprint": data.fingerprint,
            "seed": tc.seed,
            "space": {k: f"{p.table}: {p.describe()}" for k, p in self.space.items()},
            "train": {k: v for k, v in to_dict(self.base_train).items() if k not in _NOT_SETTINGS},
            "model_options": to_dict(from_mapping(self.cls.Config, self.model_table, "[model]")),
            "pruner": tc.pruner,
            "prune_startup": tc.prune_startup,
            "prune_warmup": tc.prune_warmup,
        }
        self.storage = optuna.storages.RDBStorage(f"sqlite:///{(out / STUDY_DB).resolve()}")

    # ---- configs of a trial ------------------------------------------------------------------
    def configs(self, values: Mapping[str, Any]) -> tuple[Any, TrainConfig]:
        train_values, model_values = split_tables(self.space, values)
        mc = from_mapping(self.cls.Config, {**self.model_table, **model_values}, f"trial [model] ({self.cls.name})")
        return mc, dataclasses.replace(self.base_train, **train_values)

    def run_dir(self, number: int) -> Path:
        return self.out / TRIALS / str(number)

    # ---- the study ---------------------------------------------------------------------------
    def open(self):
        optuna = self.optuna
        study = optuna.create_study(
            study_name=self.cls.name,
            storage=self.storage,
            direction="maximize",
            load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=trial_seed(self.tc.seed, 0)),
            pruner=self.pruner,
        )
        old = study.user_attrs.get("settings")
        if old is None:
            study.set_user_attr("settings", self.settings)
        elif old != self.settings:
            diffs = [
                f"{k}: {old.get(k)!r} -> {self.settings.get(k)!r}"
                for k in sorted(set(old) | set(self.settings))
                if old.get(k) != self.settings.get(k)
            ]
            raise ConfigError(
                f"{self.out} holds a study started with other settings, so it cannot be continued with these:\n  "
                + "\n  ".join(diffs)
                + "\nrepeat the original options (only --trials and --timeout may change), or choose another --out"
            )
        if not study.trials:
            study.enqueue_trial(self.default_params())
        running = optuna.trial.TrialState.RUNNING
        for t in study.get_trials(deepcopy=False, states=(running,)):  # killed with the process: we hold OUT's lock
            self.storage.set_trial_user_attr(t._trial_id, "interrupted", True)
            self.storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
            self.log(f"trial {t.number} was interrupted; it does not count towards --trials")
        return study

    def default_params(self) -> dict[str, Any]:
        """Optuna params of the model's defaults under this study's fixed tables (:func:`default_params`)."""
        model = from_mapping(self.cls.Config, self.model_table, "[model]")
        return default_params(self.space, self.base_train.resolved(self.cls), model)

    def counted(self, study) -> list[Any]:
        """Trials that use up the budget: finished ones, not those cut short by an interruption."""
        S = self.optuna.trial.TrialState
        return [
            t
            for t in study.get_trials(deepcopy=False)
            if t.state in (S.COMPLETE, S.PRUNED, S.FAIL) and not t.user_attrs.get("interrupted")
        ]

    def objective(self, trial) -> float:
        try:
            return self._objective(trial)
        except KeyboardInterrupt:  # Ctrl-C: the trial did not finish, so it does not use up the budget
            trial.set_user_attr("interrupted", True)
            raise

    def _objective(self, trial) -> float:
        optuna = self.optuna
        values = suggest(trial, self.space)
        run = self.run_dir(trial.number)
        trial.set_user_attr("run", str(run.relative_to(self.out)))
        shown = "  ".join(f"{k}={_short(v)}" for k, v in values.items())
        self.log(f"trial {trial.number}: {shown}")
        mc, tc = self.configs(values)

        def report(epoch: int, value: float) -> None:
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"epoch {epoch}: {self.metric} {value:.4f}")

        try:
            scores = train(
                self.data,
                self.cls.name,
                run,
                model_config=mc,
                train_config=tc,
                force=True,
                log=self.train_log,
                on_evaluation=report,
                evaluate_test=False,
            )
        except optuna.TrialPruned as e:
            self.log(f"trial {trial.number}: pruned at {e}")
            raise
        except (
            ConfigError
        ) as e:  # diverged, or an option combination the model refuses: the trial fails, the study goes on
            trial.set_user_attr("error", str(e))
            self.log(f"trial {trial.number}: failed: {e}")
            raise
        value = scores["valid"][self.metric]
        if value is None:
            raise ConfigError(f"trial {trial.number}: no validation user was scored")
        self.log(f"trial {trial.number}: valid {self.metric} {value:.4f} (best epoch {scores['best_epoch']})")
        return float(value)

    def run(self) -> dict[str, Any]:
        optuna = self.optuna
        study = self.open()
        start = time.perf_counter()
        done = len(self.counted(study))
        if done >= self.tc.trials:
            self.log(f"{self.out}: {done} trials already finished (--trials {self.tc.trials})")
        while done < self.tc.trials:
            if self.tc.timeout is not None and time.perf_counter() - start >= self.tc.timeout:
                self.log(
                    f"--timeout {self.tc.timeout:g}s reached after {done} of {self.tc.trials} trials; run the same command to go on"
                )
                break
            study.sampler = optuna.samplers.TPESampler(seed=trial_seed(self.tc.seed, len(study.trials)))
            study.optimize(self.objective, n_trials=1, catch=(ConfigError,))
            done = len(self.counted(study))
        return self.finish(study)

    def finish(self, study) -> dict[str, Any]:
        S = self.optuna.trial.TrialState
        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == S.COMPLETE]
        if not complete:
            states = ", ".join(f"{sum(t.state == s for t in trials)} {s.name.lower()}" for s in (S.PRUNED, S.FAIL))
            raise ConfigError(
                f"{self.cls.name}: no trial completed ({states}); nothing to choose. Widen the budget (--trials), "
                "or fix what failed (see the log)"
            )
        best = max(complete, key=lambda t: (t.value, -t.number))
        values = decode(self.space, best.params)
        mc, tc = self.configs(values)
        run = self.run_dir(best.number)
        if getattr(self, "evaluate_test", True):
            self.log(f"best: trial {best.number}, valid {self.metric} {best.value:.4f}; evaluating its test split")
            scores = train(
                self.data, self.cls.name, run, model_config=mc, train_config=tc, log=self.train_log, evaluate_test=True
            )
        else:  # the caller measures on test itself (ckg run: the seeded runs)
            self.log(f"best: trial {best.number}, valid {self.metric} {best.value:.4f}")
            scores = {"test": None}
        train_values, model_values = split_tables(self.space, values)
        best_train = {**{k: v for k, v in self.train_table.items() if k not in _NOT_SETTINGS}, **train_values}
        best_model = {**self.model_table, **model_values}
        header = [
            f"ckg tune: best of {len(complete)} complete trials of {self.cls.name} (trial {best.number}, "
            f"valid {self.metric} {best.value:.6g}; seed {self.tc.seed})",
            f"train with: ckg train STORE --model {self.cls.name} --config {BEST_TOML} --seed {self.tc.seed}",
        ]
        _write_text(self.out / BEST_TOML, toml_text({"train": best_train, "model": best_model}, header))

        def seconds(t) -> float | None:
            if t.datetime_start is None or t.datetime_complete is None:
                return None
            return (t.datetime_complete - t.datetime_start).total_seconds()

        summary = {
            "model": self.cls.name,
            "store_fingerprint": self.data.fingerprint,
            "seed": self.tc.seed,
            "valid_metric": self.metric,
            "budget": {
                "trials_requested": self.tc.trials,
                "complete": len(complete),
                "pruned": sum(t.state == S.PRUNED for t in trials),
                "failed": sum(t.state == S.FAIL and not t.user_attrs.get("interrupted") for t in trials),
                "interrupted": sum(bool(t.user_attrs.get("interrupted")) for t in trials),
                "wall_seconds": round(sum(s for t in trials if (s := seconds(t)) is not None), 3),
            },
            "space": self.settings["space"],
            "fixed": {k: v for k, v in {**self.train_table, **self.model_table}.items() if k in self.fixed},
            "best": {
                "trial": best.number,
                "run": best.user_attrs.get("run"),
                "valid": best.value,
                "train": train_values,
                "model": {k: list(v) if isinstance(v, tuple) else v for k, v in model_values.items()},
                "test": scores["test"],
            },
            "trials": [
                {
                    "number": t.number,
                    "state": t.state.name.lower(),
                    "value": t.value,
                    "params": {
                        k: list(v) if isinstance(v, tuple) else v for k, v in decode(self.space, t.params).items()
                    },
                    "last_epoch": t.last_step,
                    "seconds": seconds(t),
                    "run": t.user_attrs.get("run"),
                    **({"interrupted": True} if t.user_attrs.get("interrupted") else {}),
                    **({"error": t.user_attrs["error"]} if "error" in t.user_attrs else {}),
                }
                for t in trials
            ],
        }
        _write_text(self.out / SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n")
        keys = [f"{n}@{k}" for k in tc.ks for n in ("recall", "ndcg")]
        test = scores["test"]
        if test is None:
            return summary
        self.log(
            "test of the best trial: "
            + "  ".join(f"{k} {test[k]:.4f}" for k in keys if test.get(k) is not None)
            + f"  ({self.out / BEST_TOML}, {self.out / SUMMARY})"
        )
        return summary


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, tuple):
        return ",".join(map(str, v))
    return str(v)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UnsafeOutputError(f"--out {out} is a file, not a study directory; choose another --out")
    if out.is_dir() and not (out / STUDY_DB).exists():
        foreign = sorted(p.name for p in out.iterdir() if p.name != LOCK)
        if foreign:
            raise UnsafeOutputError(
                f"--out {out} is a non-empty directory without a study ({STUDY_DB}; holds "
                f"{', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}); choose a new or empty --out"
            )


def tune(
    data: TrainData,
    model_name: str,
    out: str | Path,
    *,
    tune_config: TuneConfig,
    train_table: Mapping[str, Any] | None = None,
    model_table: Mapping[str, Any] | None = None,
    log: Log | None = None,
    train_log: Log | None = None,
    pruner: Any = None,
    evaluate_test: bool = True,
) -> dict[str, Any]:
    """Run (or continue) the study of ``model_name`` in ``out`` and return its ``summary.json``.

    :param train_table: trainer settings every trial shares (``[train]`` of ``--config`` and the
        flags); a search-space parameter set here is fixed, not searched.
    :param model_table: model options every trial shares (``[model]``, ``--set``); likewise.
    :param log: the study's progress lines; ``train_log``: each trial's trainer lines.
    :param pruner: an Optuna pruner instead of the one ``tune_config.pruner`` names.
    :param evaluate_test: evaluate the best trial on the test split at the end (``ckg tune``); False
        leaves the test split unread (``summary["best"]["test"]`` is None): ``ckg run`` measures the
        chosen values on test in its seeded runs instead.
    :raises ConfigError: no validation pairs, nothing to tune, another study's settings in ``out``,
        or no trial completed.
    """
    import optuna

    from ckgrec.schemas.locks import exclusive_lock

    if data.valid.nnz == 0:
        where = data.store.path if data.store is not None else "the data"
        raise ConfigError(
            f"{where} has no validation pairs: a study selects on the validation split only. Rebuild the store "
            "with a validation share ([build.split] ratios), or use a source whose split has one"
        )
    log = log or (lambda _msg: None)
    out = Path(out)
    _check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with exclusive_lock(out / LOCK, f"study directory {out}", command="another 'ckg tune'"):
            study = _Study(
                data,
                model_name,
                out,
                tune_config,
                dict(train_table or {}),
                dict(model_table or {}),
                log,
                train_log,
                pruner,
            )
            study.evaluate_test = evaluate_test
            return study.run()
    finally:
        optuna.logging.set_verbosity(verbosity)
