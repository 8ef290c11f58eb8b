"""The training loop: epochs of BPR batches, early stopping on validation, resumable.

One epoch: ``on_epoch_start`` -> draw the epoch's triples (:class:`ckgrec.model.training.sampler.BPRSampler`)
-> for each batch ``loss + l2 · regularization``, backward, optimiser step -> each extra phase
of the model with its own optimiser -> ``on_epoch_end``. Every ``eval_every`` epochs the model
is ranked on VALIDATION (full ranking); an improvement of ``valid_metric`` saves ``best.pt``,
``patience`` evaluations without one stop the run. After every epoch the full state goes to
``checkpoint.pt`` (model, optimisers, every random state, counters) and a line to
``metrics.jsonl``; a killed run restarted with the same command resumes from there and, on the
CPU, finishes with exactly the parameters and scores of an uninterrupted run. Finally the best
state is ranked once on valid and test and ``scores.json`` is written.

The test split is never looked at before that final evaluation. Two hooks serve ``ckg tune``:
``on_evaluation(epoch, value)`` is called after each validation evaluation (once its checkpoint
is written) with the ``valid_metric`` value, and may raise to end the run there (a pruned trial);
``evaluate_test=False`` leaves the test split out of the final evaluation (``scores.json`` then
has ``"test": null``), and a later ``train`` of the finished run with ``evaluate_test=True``
evaluates only the test split of the kept best state.

Several processes (``nproc`` > 1, or launched by ``torchrun``): see
:mod:`ckgrec.model.training.distributed`. Each rank trains on its slice of every batch, the
gradients are averaged, rank 0 alone evaluates and writes the run directory, and the checkpoint
also holds every rank's random states, so a killed run resumes exactly with the same world size.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ckgrec.model.core import checkpoint as ckpt
from ckgrec.model.core.device import resolve_device
from ckgrec.model.core.run_dir import (
    BEST,
    CHECKPOINT,
    RUN_FORMAT_VERSION,
    RunDir,
    config_differences,
    describe_config_mismatch,
)
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.evaluator import EvalResult, evaluate
from ckgrec.model.evaluation.groups import (
    Protocols,
    group_scores,
    scored_groups,
    unscorable_groups,
)
from ckgrec.model.models.base import ModelConfig, Recommender
from ckgrec.model.models.registry import get_model
from ckgrec.model.training import distributed as dd
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.sampler import BPRSampler
from ckgrec.schemas.config_io import to_dict
from ckgrec.schemas.errors import ConfigError

Log = Callable[[str], None]


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def run_config(
    model_name: str, model_config: ModelConfig, train_config: TrainConfig, data: TrainData, world_size: int = 1
) -> dict[str, Any]:
    """The ``config.json`` of a run: everything needed to rebuild the model and judge a resume.
    A run of several processes records ``train.world_size`` (a resume must use as many)."""
    store_path = str(Path(data.store.path).resolve()) if data.store is not None else None
    train = to_dict(train_config)
    if world_size > 1:
        train["world_size"] = world_size
    return {
        "format_version": RUN_FORMAT_VERSION,
        "model": model_name,
        "model_config": to_dict(model_config),
        "train": train,
        "store": {"path": store_path, "fingerprint": data.fingerprint},
        "versions": {"ckgrec": _version("ckgrec"), "torch": torch.__version__},
    }


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """Adam / SGD use torch's fused kernels where available (on the CPU about 6x faster than the
    default for-each Adam on large embedding tables); Adagrad the default implementation."""
    params = [p for p in params if p.requires_grad]
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    cls = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}.get(name)
    if cls is None:
        raise ConfigError(f"optimizer '{name}' unknown")
    try:
        return cls(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # an old torch or an unsupported device/dtype
        return cls(params, lr=lr)


def make_optimizers(model: Recommender, tc: TrainConfig) -> dict[str, torch.optim.Optimizer]:
    """The CF phase's optimizer and one per extra phase, or the CF one where the model says its
    phase shares it (:meth:`Recommender.phase_shares_cf_optimizer`)."""
    optimizers = {"cf": make_optimizer(tc.optimizer, model.parameters(), tc.lr)}
    for phase in model.extra_phases:
        optimizers[phase] = (
            optimizers["cf"]
            if model.phase_shares_cf_optimizer(phase)
            else make_optimizer(tc.optimizer, model.parameters(), tc.lr)
        )
    return optimizers


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_FRESH, _RESUME, _DONE = 0, 1, 2  # what rank 0 tells the other ranks to do


def _ranks(d: dd.Dist) -> str:
    return f", {d.world_size} processes" if d.active else ""


def _fmt_metrics(m: dict[str, float], keys: list[str]) -> str:
    return "  ".join(f"{k} {m[k]:.4f}" if m[k] is not None else f"{k} -" for k in keys if k in m)


def _no_nan(metrics: dict[str, float]) -> dict[str, float | None]:
    """Metrics of a split with no user to score are null in scores.json, never NaN (which is not
    JSON and compares false with everything)."""
    return {k: (None if v is None or math.isnan(v) else v) for k, v in metrics.items()}


class Trainer:
    """Trains one model into one run directory. Use :func:`train` unless you need the parts."""

    def __init__(
        self,
        data: TrainData,
        model_name: str,
        model_config: ModelConfig | None,
        train_config: TrainConfig,
        run: RunDir | str | Path,
        *,
        progress: bool = False,
        log: Log | None = None,
        on_evaluation: Callable[[int, float], None] | None = None,
        evaluate_test: bool = True,
    ):
        self.data = data
        self.cls: type[Recommender] = get_model(model_name)
        self.model_config = model_config if model_config is not None else self.cls.Config()
        if not isinstance(self.model_config, self.cls.Config):
            raise ConfigError(
                f"{model_name}: expected a {self.cls.Config.__name__}, got {type(self.model_config).__name__}"
            )
        self.tc = train_config.resolved(self.cls)
        self.run = run if isinstance(run, RunDir) else RunDir(run)
        self.dist = dd.current()  # rank 0 of 1 outside a process group
        if self.dist.world_size > 1 and not self.cls.loss_splits_by_rows:
            raise ConfigError(
                f"{model_name}: its loss couples the rows of a batch (a contrast over the whole batch), so a share of "
                f"the batch per process trains another objective; train it in one process (nproc = 1)"
            )
        if self.dist.world_size > 1 and self.tc.batch_size < self.dist.world_size:
            raise ConfigError(
                f"batch_size = {self.tc.batch_size} is below nproc = {self.dist.world_size}: every process needs rows"
            )
        self.progress = progress and self.dist.is_main
        self.log: Log = (log if self.dist.is_main else None) or (lambda _msg: None)
        self.on_evaluation = on_evaluation
        self.evaluate_test = evaluate_test
        self.config = run_config(self.cls.name, self.model_config, self.tc, data, self.dist.world_size)

    # ---- entry point -------------------------------------------------------------------------
    def fit(self, *, force: bool = False, stop_after: int | None = None) -> dict[str, Any] | None:
        """Train (or resume) and return the final scores.

        :param force: discard what the run directory holds and start over.
        :param stop_after: stop after this many epochs of this session, leaving the checkpoint as
            a killed run would (tests use it to check that resuming gives identical results);
            returns None in that case.
        """
        run = self.run
        if not self.dist.is_main:
            return self._follow(stop_after)
        run.check_writable()
        with run.lock():
            run.remove_debris()
            return self._fit_locked(force=force, stop_after=stop_after)

    def reselect(self) -> dict[str, Any]:
        """Choose again, on a finished run, what the model chooses on validation after training
        (:meth:`Recommender.select_on_validation`, e.g. dualkgat's knowledge filter), from the run's best
        state, without training; then evaluate valid and test again and rewrite ``best.pt`` and the scores.

        Training never reads these choices (the selection starts from scratch on the best epoch's state),
        so the result is what retraining with the current code would give, at the cost of the selection
        alone: after the selection's grid changed, a run need not be trained again."""
        run = self.run
        run.check_writable()
        with run.lock():
            if not run.is_complete:
                raise ConfigError(f"{run.path}: not a finished run; train it first (reselect needs its best state)")
            self._check_same_config()
            scores = run.read_scores()
            model, _, _ = self._fresh_model()
            best = ckpt.load(run.file(BEST), self.data.fingerprint)
            model.load_state_dict(best["model"])
            selected = self._select_on_validation(model, best)
            kept = {k: v for k, v in scores.items() if k.startswith("seconds_") and k != "seconds_final_evaluation"}
            kept["stopped_early"] = scores.get("stopped_early", False)
            if selected is not None:
                kept["selected_on_validation"] = selected
            return self._finish(model, epochs=scores["epochs"], best_epoch=scores["best_epoch"], timings=kept)

    def _fit_locked(self, *, force: bool, stop_after: int | None) -> dict[str, Any] | None:
        run = self.run
        if force:
            run.clear()
        if run.is_complete:
            self._tell_followers(_DONE)
            self._check_same_config()
            scores = run.read_scores()
            if self.evaluate_test and scores.get("test") is None:
                return self._finish_test(scores)
            self.log(f"{run.path}: already finished; scores in {run.file('scores.json')} (pass --force to retrain)")
            return scores
        resume = run.has_checkpoint
        if resume:
            self._check_same_config()
        # a directory with config.json but no checkpoint was killed in its first epoch: start over
        run.write_config(self.config)
        model, generator, device = self._fresh_model()
        if not self.cls.trainable:
            self._tell_followers(_DONE)  # a closed form is fitted by rank 0 alone
            return self._fit_closed_form(model)
        self._tell_followers(_RESUME if resume else _FRESH)
        return self._fit_epochs(model, generator, device, resume, stop_after)

    # ---- several processes: the ranks other than 0 ---------------------------------------------
    def _tell_followers(self, decision: int) -> None:
        dd.broadcast_ints([decision], self.dist)

    def _follow(self, stop_after: int | None) -> None:
        """A rank other than 0: wait for rank 0's decision (it alone clears, checks and writes the
        run directory), then train along with it; returns None (rank 0 has the scores)."""
        (decision,) = dd.broadcast_ints([-1], self.dist)
        if decision == _DONE:
            return None
        model, generator, device = self._fresh_model()
        self._fit_epochs(model, generator, device, decision == _RESUME, stop_after)
        return None

    def _fresh_model(self) -> tuple[Recommender, torch.Generator, torch.device]:
        """The model as a run builds it: torch threads set, every random state seeded, on the run's device."""
        if self.tc.threads:
            torch.set_num_threads(self.tc.threads)
        device = dd.rank_device(resolve_device(self.tc.device), self.dist)
        generator = ckpt.seed_everything(self.tc.seed)
        return self.cls.build(self.data, self.model_config, device), generator, device

    def _check_same_config(self) -> None:
        old = self.run.read_config()
        if old.get("store", {}).get("fingerprint") != self.data.fingerprint:
            self.run.check_store(self.data.fingerprint, self.data.store.path if self.data.store is not None else None)
        diffs = config_differences(old, self.config)
        if diffs:
            raise describe_config_mismatch(self.run, diffs)

    # ---- closed form -------------------------------------------------------------------------
    def _fit_closed_form(self, model: Recommender) -> dict[str, Any]:
        start = time.perf_counter()
        model.fit_closed_form(self.data)
        fit_seconds = time.perf_counter() - start
        ckpt.save(
            self.run.file(BEST),
            {
                "fingerprint": self.data.fingerprint,
                "model_name": self.cls.name,
                "epoch": 0,
                "model": model.state_dict(),
            },
        )
        self.log(f"{self.cls.name}: fitted in closed form in {fit_seconds:.2f}s")
        return self._finish(
            model, epochs=0, best_epoch=0, timings={"seconds_fit": fit_seconds, "seconds_per_epoch": None}
        )

    # ---- epochs ------------------------------------------------------------------------------
    def _fit_epochs(
        self, model: Recommender, generator: torch.Generator, device: torch.device, resume: bool, stop_after: int | None
    ) -> dict[str, Any] | None:
        tc, data, run, d = self.tc, self.data, self.run, self.dist
        sampler = BPRSampler(data.train, num_negatives=tc.num_negatives, negatives_from=tc.negatives_from)
        optimizers = make_optimizers(model, tc)
        state = {
            "epoch": 0,
            "best_value": -math.inf,
            "best_epoch": 0,
            "bad_evals": 0,
            "stopped": False,
            "metric_lines": 0,
            "seconds": {"sample": 0.0, "train": 0.0, "eval": 0.0},
            "evals": 0,
        }
        if resume:
            payload = ckpt.load(run.file(CHECKPOINT), data.fingerprint)
            model.load_state_dict(payload["model"])
            for name, opt in optimizers.items():
                opt.load_state_dict(payload["optimizers"][name])
            ckpt.restore_rng(payload["rng"] if d.is_main else payload["rng_ranks"][d.rank], generator)
            state = payload["state"]
            if d.is_main:
                run.truncate_metrics(state["metric_lines"])
            self.log(
                f"resuming {run.path} after epoch {state['epoch']} (best {tc.valid_metric} {state['best_value']:.4f} at epoch {state['best_epoch']})"
            )
        elif d.is_main:
            run.truncate_metrics(0)
            self.log(f"training {self.cls.name} on {data.summary()} ({device}{_ranks(d)})")
        valid_subset = self._valid_subset()
        has_valid = data.valid.nnz > 0
        if not has_valid:
            self.log("the store has no validation pairs: no early stopping, the last epoch is kept")
        session_epochs = 0
        dd.barrier(d)  # the ranks start their epochs together (a spawned rank takes seconds to come up)
        while state["epoch"] < tc.epochs and not state["stopped"]:
            epoch = state["epoch"] + 1
            record = self._one_epoch(model, sampler, optimizers, generator, device, epoch)
            state["seconds"]["sample"] += record["seconds_sample"]
            state["seconds"]["train"] += record["seconds_train"]
            if not d.is_main:
                pass  # rank 0 evaluates, keeps the best state and decides on stopping
            elif epoch % tc.eval_every == 0 or epoch == tc.epochs:
                if has_valid:
                    res = evaluate(
                        model,
                        data,
                        "valid",
                        tc.ks,
                        users=valid_subset,
                        batch_users=tc.eval_batch_users,
                        progress=self.progress,
                    )
                    record["valid"] = res.metrics
                    record["seconds_eval"] = res.seconds
                    state["seconds"]["eval"] += res.seconds
                    state["evals"] += 1
                    value = res.metrics[tc.valid_metric]
                    improved = value > state["best_value"]
                else:
                    value, improved = float("nan"), True
                if improved:
                    state.update(best_value=value if has_valid else -math.inf, best_epoch=epoch, bad_evals=0)
                    ckpt.save(
                        run.file(BEST),
                        {
                            "fingerprint": data.fingerprint,
                            "model_name": self.cls.name,
                            "epoch": epoch,
                            "model": model.state_dict(),
                        },
                    )
                else:
                    state["bad_evals"] += 1
                    if tc.patience and state["bad_evals"] >= tc.patience:
                        state["stopped"] = True
                record["best"] = improved
                self.log(
                    f"epoch {epoch:4d}  loss {record['loss']:.4f}  valid {_fmt_metrics(record.get('valid', {}), [tc.valid_metric, 'ndcg@' + tc.valid_metric.split('@')[1]])}"
                    f"  ({record['seconds_sample'] + record['seconds_train']:.1f}s train, {record.get('seconds_eval', 0.0):.1f}s eval){'  *' if improved else ''}"
                )
            else:
                self.log(
                    f"epoch {epoch:4d}  loss {record['loss']:.4f}  ({record['seconds_sample'] + record['seconds_train']:.1f}s)"
                )
            state["epoch"] = epoch
            rng_ranks = dd.gather_objects(ckpt.capture_rng(generator), d) if d.active else None
            if d.is_main:
                run.append_metrics(record)
                state["metric_lines"] += 1
                payload = {
                    "fingerprint": data.fingerprint,
                    "model_name": self.cls.name,
                    "model": model.state_dict(),
                    "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                    "rng": ckpt.capture_rng(generator),
                    "state": state,
                }
                if rng_ranks is not None:
                    payload["rng_ranks"] = rng_ranks  # each rank's own: dropout draws differ by rank
                ckpt.save(run.file(CHECKPOINT), payload)
            if d.is_main and self.on_evaluation is not None and "valid" in record:
                try:
                    self.on_evaluation(epoch, record["valid"][tc.valid_metric])  # may raise: the run stays resumable
                except BaseException:
                    dd.broadcast_ints([int(state["stopped"]), 1], d)  # the other ranks end too
                    raise
            stopped, aborted = dd.broadcast_ints([int(state["stopped"]), 0], d)
            if aborted:
                return None
            state["stopped"] = bool(stopped)
            session_epochs += 1
            if (
                stop_after is not None
                and session_epochs >= stop_after
                and state["epoch"] < tc.epochs
                and not state["stopped"]
            ):
                return None
        if not d.is_main:
            return None
        if state["stopped"]:
            self.log(
                f"early stop after epoch {state['epoch']}: no better {tc.valid_metric} for {tc.patience} evaluations; best epoch {state['best_epoch']}"
            )
        if not run.file(BEST).exists():  # epochs = 0
            ckpt.save(
                run.file(BEST),
                {"fingerprint": data.fingerprint, "model_name": self.cls.name, "epoch": 0, "model": model.state_dict()},
            )
        best = ckpt.load(run.file(BEST), data.fingerprint)
        model.load_state_dict(best["model"])
        selected = self._select_on_validation(model, best) if has_valid else None
        n = max(1, state["epoch"])
        timings = {
            "seconds_per_epoch": (state["seconds"]["sample"] + state["seconds"]["train"]) / n,
            "seconds_sample_per_epoch": state["seconds"]["sample"] / n,
            "seconds_eval_per_evaluation": state["seconds"]["eval"] / max(1, state["evals"]),
            "stopped_early": bool(state["stopped"]),
        }
        if selected is not None:
            timings["selected_on_validation"] = selected
        scores = self._finish(model, epochs=state["epoch"], best_epoch=int(best["epoch"]), timings=timings)
        run.file(CHECKPOINT).unlink(missing_ok=True)
        return scores

    def _select_on_validation(self, model: Recommender, best: dict[str, Any]) -> dict[str, Any] | None:
        """Let the best state choose what training does not learn (:meth:`Recommender.select_on_validation`),
        on the whole validation split; ``best.pt`` is rewritten with the choice, so a loaded run scores as here."""
        tc, data = self.tc, self.data

        def valid_value() -> float:
            res = evaluate(model, data, "valid", tc.ks, batch_users=tc.eval_batch_users)
            return float(res.metrics[tc.valid_metric])

        selected = model.select_on_validation(valid_value)
        if selected is not None:
            self.log(f"chosen on validation: {', '.join(f'{k} {v}' for k, v in selected.items())}")
            ckpt.save(self.run.file(BEST), {**best, "model": model.state_dict()})
        return selected

    def _one_epoch(self, model, sampler, optimizers, generator, device, epoch) -> dict[str, Any]:
        tc = self.tc
        model.train()
        t0 = time.perf_counter()
        model.on_epoch_start(epoch, generator)
        drawn = sampler.draw_epoch(generator)
        t1 = time.perf_counter()
        batches = sampler.split(drawn, tc.batch_size)
        if self.progress:
            from tqdm import tqdm

            batches = tqdm(
                batches,
                total=sampler.num_batches(tc.batch_size),
                desc=f"epoch {epoch}",
                unit="batch",
                leave=False,
                file=sys.stderr,
            )
        sums: dict[str, torch.Tensor] = {}
        total_rows = 0
        opt = optimizers["cf"]
        d = self.dist
        for batch in batches:
            if d.active:  # this rank's slice; the step averages the slices' gradients by their rows
                whole = len(batch)
                batch = dd.shard(batch, d)
            batch = batch.to(device)
            opt.zero_grad(set_to_none=True)
            rows = len(batch)
            if rows:
                loss, parts = model.objective(batch, tc.l2)
                if not torch.isfinite(loss):
                    raise ConfigError(
                        f"{self.cls.name}: the loss became {loss.item()} in epoch {epoch}; training diverged (lower --lr or raise --l2)"
                    )
                loss.backward()
            if d.active:
                dd.average_gradients(model.parameters(), rows / whole, d)
            opt.step()
            if not rows:
                continue
            total_rows += rows
            parts = {"loss": loss.detach(), **parts}
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v.detach().float() * rows
        if d.active:  # the epoch's mean over every rank's rows
            keys = list(sums)  # the same order on every rank: the same model code made them
            reduced = dd.sum_floats([float(total_rows), *(float(sums[k]) for k in keys)], d)
            total_rows, sums = int(reduced[0]), dict(zip(keys, reduced[1:]))
        record: dict[str, Any] = {"epoch": epoch, **{k: float(v) / max(1, total_rows) for k, v in sums.items()}}
        for phase in self.cls.extra_phases:
            popt = optimizers[phase]
            psums: dict[str, float] = {}
            n_batches = 0
            for b in model.phase_batches(phase, epoch, generator):
                popt.zero_grad(set_to_none=True)
                ploss, pparts = model.phase_loss(phase, b)
                if not torch.isfinite(ploss):
                    raise ConfigError(
                        f"{self.cls.name}: the {phase} loss became {ploss.item()} in epoch {epoch}; training diverged"
                    )
                ploss.backward()
                if d.active:  # every rank computes the whole phase batch: keep the replicas in step
                    dd.average_gradients(model.parameters(), 1.0 / d.world_size, d)
                popt.step()
                n_batches += 1
                for k, v in {"loss": ploss, **pparts}.items():
                    psums[k] = psums.get(k, 0.0) + float(v.detach())
            record.update({f"{phase}_{k}": v / max(1, n_batches) for k, v in psums.items()})
        model.on_epoch_end(epoch)
        t2 = time.perf_counter()
        record["seconds_sample"] = t1 - t0
        record["seconds_train"] = t2 - t1
        return record

    def _valid_subset(self) -> np.ndarray | None:
        if self.tc.valid_users <= 0:
            return None
        users = self.data.users_with_positives("valid")
        if len(users) <= self.tc.valid_users:
            return None
        rng = np.random.default_rng(self.tc.seed)
        return np.sort(rng.choice(users, size=self.tc.valid_users, replace=False))

    # ---- final evaluation --------------------------------------------------------------------
    def _finish_test(self, scores: dict[str, Any]) -> dict[str, Any]:
        """Evaluate the best state of a run finished with ``evaluate_test=False`` on valid and test."""
        model, _, _ = self._fresh_model()
        model.load_state_dict(ckpt.load(self.run.file(BEST), self.data.fingerprint)["model"])
        kept = {
            k: v
            for k, v in scores.items()
            if (k.startswith("seconds_") and k != "seconds_final_evaluation")
            or k in ("stopped_early", "selected_on_validation")
        }
        return self._finish(model, epochs=scores["epochs"], best_epoch=scores["best_epoch"], timings=kept)

    def _finish(self, model: Recommender, *, epochs: int, best_epoch: int, timings: dict[str, Any]) -> dict[str, Any]:
        tc, data, run = self.tc, self.data, self.run
        results: dict[str, EvalResult] = {}
        protocols = Protocols.of(data)
        unscorable = unscorable_groups(model, protocols)
        for split in ("valid", "test") if self.evaluate_test else ("valid",):
            results[split] = evaluate(
                model, data, split, tc.ks, batch_users=tc.eval_batch_users, progress=self.progress, groups=protocols
            )
            run.write_per_user(split, results[split].users, results[split].per_user)
            run.write_per_user_groups(split, scored_groups(results[split].groups, unscorable))
        groups, uninformed = group_scores({s: r.groups for s, r in results.items()}, unscorable)
        scores: dict[str, Any] = {
            "valid": _no_nan(results["valid"].metrics),
            "test": _no_nan(results["test"].metrics) if "test" in results else None,
            "protocol": "full",
            "model": self.cls.name,
            "seed": tc.seed,
            "epochs": epochs,
            "best_epoch": best_epoch,
            **timings,
            "seconds_final_evaluation": sum(r.seconds for r in results.values()),
            "users_evaluated": {s: r.n_users for s, r in results.items()},
            "users_skipped": {s: r.skipped_users for s, r in results.items()},
            "device": str(model.device),
            "peak_rss_mib": round(peak_rss_mib(), 1),
            "groups": groups,
        }
        if uninformed:
            scores["groups_uninformed"] = uninformed
        if model.device.type == "cuda":
            scores["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated(model.device) / 2**20, 1)
        run.write_scores(scores)
        keys = [f"{n}@{k}" for k in tc.ks for n in ("recall", "ndcg")]
        if "test" not in results:
            self.log(
                f"valid {_fmt_metrics(results['valid'].metrics, keys)}  (test not evaluated; best epoch {best_epoch} of {epochs})"
            )
            return scores
        self.log(
            f"test  {_fmt_metrics(results['test'].metrics, keys)}  (best epoch {best_epoch} of {epochs}; {run.file('scores.json')})"
        )
        return scores


def train(
    data: TrainData,
    model_name: str,
    run: RunDir | str | Path,
    *,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    force: bool = False,
    progress: bool = False,
    log: Log | None = None,
    stop_after: int | None = None,
    on_evaluation: Callable[[int, float], None] | None = None,
    evaluate_test: bool = True,
    nproc: int = 1,
    reselect: bool = False,
) -> dict[str, Any] | None:
    """Train ``model_name`` on ``data`` into ``run`` (resuming it when it holds a checkpoint).

    ``reselect``: train nothing; on a finished ``run``, choose again what is chosen on validation
    after training (:meth:`Trainer.reselect`).

    ``on_evaluation`` and ``evaluate_test``: see the module docstring (``ckg tune`` uses them).
    ``nproc`` > 1 trains data-parallel in that many spawned local processes (each loads ``data``
    again from its store; this one passes on rank 0's log and returns the scores it wrote);
    launched by ``torchrun``, every process calls this and the group comes from the environment;
    rank 0 returns the scores, the others None.
    """
    tc = train_config or TrainConfig()

    def fit() -> dict[str, Any] | None:
        trainer = Trainer(
            data,
            model_name,
            model_config,
            tc,
            run,
            progress=progress,
            log=log,
            on_evaluation=on_evaluation,
            evaluate_test=evaluate_test,
        )
        scores = trainer.fit(force=force, stop_after=stop_after)
        dd.barrier(trainer.dist)  # the others return once rank 0 has written everything
        return scores

    if nproc < 1:
        raise ConfigError(f"nproc = {nproc}: must be >= 1")
    if reselect:
        if force:
            raise ConfigError("reselect keeps the trained run; force would discard it: give one or the other")
        return Trainer(data, model_name, model_config, tc, run, log=log).reselect()
    world = dd.env_world_size()
    if world > 1 and nproc > 1 and nproc != world:
        raise ConfigError(f"nproc = {nproc}, but torchrun started {world} processes: give one or the other")
    if world <= 1 and (nproc == 1 or not get_model(model_name).trainable):
        return fit()  # one process (a closed form is never split)
    if world > 1:
        with dd.process_group_from_env(resolve_device(tc.device), tc.threads):
            return fit()
    if data.store is None:
        raise ConfigError("nproc > 1 needs data loaded from a store (TrainData.from_store): every rank reads it")
    if on_evaluation is not None:
        raise ConfigError("nproc > 1 takes no on_evaluation callback (ckg tune trains in one process)")
    worker_args = (
        str(data.store.path),
        data.fingerprint,
        model_name,
        model_config,
        tc,
        str(run.path if isinstance(run, RunDir) else run),
        force,
        stop_after,
        evaluate_test,
        progress,
    )
    dd.spawn(
        nproc, _rank_worker, worker_args, backend=dd.backend_for(resolve_device(tc.device)), threads=tc.threads, log=log
    )
    rd = run if isinstance(run, RunDir) else RunDir(run)
    return rd.read_scores() if rd.is_complete else None


def _rank_worker(
    store_path: str,
    fingerprint: str,
    model_name: str,
    model_config: ModelConfig | None,
    tc: TrainConfig,
    run: str,
    force: bool,
    stop_after: int | None,
    evaluate_test: bool,
    progress: bool,
    log: Log | None = None,
) -> None:
    """One rank started by ``train(..., nproc=N)``: the same training on the same store."""
    from ckgrec.schemas.store import Store

    data = TrainData.from_store(Store.open(store_path))
    if data.fingerprint != fingerprint:
        raise ConfigError(f"{store_path}: the store changed under a running data-parallel training")
    trainer = Trainer(data, model_name, model_config, tc, run, progress=progress, log=log, evaluate_test=evaluate_test)
    trainer.fit(force=force, stop_after=stop_after)
    dd.barrier(trainer.dist)
