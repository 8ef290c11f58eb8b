"""TransR pretraining on the collaborative KGs through PyKEEN.

One trainer, :func:`train_transr`, takes a :class:`~ckgrec.model.data.kg_splits.KGSplits` (mapped
triples + id->label maps) and a :class:`PretrainConfig`, and runs PyKEEN end to end: a
``TriplesFactory`` built from the integer ids, PyKEEN's ``TransR`` with every option set
explicitly (:mod:`ckgrec.model.pretraining.pykeen_models`), the sLCWA training loop with PyKEEN's basic
negative sampler, ``PairwiseLogisticLoss`` (the recommender's KG loss
``-ln sigmoid(g(h,r,t') - g(h,r,t))``), Adam, PyKEEN's ``EarlyStopper`` on a sampled
validation set and its filtered ``RankBasedEvaluator`` on a sampled test set.
:func:`pretrain_store` is the thin store wrapper behind ``ckg pretrain``: for each graph it
reads the store, trains, and writes ``STORE/pretrained/<graph>.*`` (:mod:`ckgrec.model.data.pretrained`).

Inverse relations are **not** trained. A store's graphs have 2R relation ids (inverse of r is
r + R) but triples only for the R forward ones. Training PyKEEN with
``create_inverse_triples`` would double every epoch and learn each inverse independently,
although TransR has an exact closed form for them: ``e_{r+R} = -e_r``, ``W_{r+R} = W_r``
gives ``g(t, r+R, h) = g(h, r, t)``. The saved relation tables are completed that way
(:func:`ckgrec.model.nn.transr.add_inverse_relations`). Corruption is tail-only by default, as in the
recommender's KG loss; ``corruption="both"`` corrupts heads too.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pykeen.evaluation import RankBasedEvaluator
from pykeen.losses import PairwiseLogisticLoss
from pykeen.stoppers import EarlyStopper
from pykeen.training import SLCWATrainingLoop
from pykeen.training.callbacks import TrainingCallback
from pykeen.utils import set_random_seed

from ckgrec.model.core.device import resolve_device
from ckgrec.model.data.kg_splits import KGSplits, splits_from_store
from ckgrec.model.nn.transr import add_inverse_relations
from ckgrec.model.pretraining.config import PretrainConfig
from ckgrec.model.pretraining.pykeen_models import (
    build_transe,
    build_transr,
    transe_tensors,
    transr_tensors,
    warm_start_from_transe,
)
from ckgrec.schemas.errors import ConfigError
from ckgrec.schemas.tables import GRAPHS

__all__ = [
    "PretrainConfig",
    "TrainedTransR",
    "train_transr",
    "evaluate_tensors",
    "evaluate_link_prediction",
    "pretrain_store",
    "format_metrics",
    "resolve_device",
    "training_runtime",
]

#: rank-based metrics reported per side, with PyKEEN's names
METRICS = {"mrr": "inverse_harmonic_mean_rank", "hits_at_1": "hits_at_1", "hits_at_10": "hits_at_10"}
SIDES = ("both", "head", "tail")


@dataclass
class TrainedTransR:
    """Result of :func:`train_transr`: forward-relation tensors (CPU, float32) and metrics.

    Shapes: ``entity`` ``(N, d)``, ``relation`` ``(R, k)``, ``projection`` ``(R, d, k)``.
    """

    entity: torch.Tensor
    relation: torch.Tensor
    projection: torch.Tensor
    metrics: dict[str, Any] = field(default_factory=dict)

    def with_inverses(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(entity ``(N, d)``, relation ``(2R, k)``, projection ``(2R, d, k)``) in a store's relation ids."""
        return (self.entity, *add_inverse_relations(self.relation, self.projection))


@contextlib.contextmanager
def training_runtime(threads: int):
    """Run the block with ``torch.set_num_threads(threads)``, restoring everything after.

    * PyKEEN calls ``gc.collect()`` after every epoch; with torch + PyKEEN imported that full
      collection scans ~3·10^5 objects and costs 0.3-0.4 s an epoch here. ``gc.freeze()`` moves the
      objects that exist before training out of the collector's sight, so the per-epoch
      collection only looks at what training allocated (``gc.unfreeze()`` on exit).
    * mutes torch_max_mem's per-call warning that CPU tensors are "not considered safe" for its
      automatic batch-size search, which we never use (batch sizes are always explicit).
    """
    before = torch.get_num_threads()
    noisy = logging.getLogger("torch_max_mem.api")
    level = noisy.level
    torch.set_num_threads(threads)
    noisy.setLevel(logging.ERROR)
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        torch.set_num_threads(before)
        noisy.setLevel(level)


def _sample(triples: torch.Tensor, n: int) -> torch.Tensor:
    """The first ``n`` triples (they are already in random order), sorted by relation so that
    an evaluation batch touches few relations."""
    part = triples[:n] if n else triples[:0]
    return part[torch.argsort(part[:, 1], stable=True)]


def evaluate_link_prediction(
    model, triples: torch.Tensor, filter_triples: list[torch.Tensor], *, batch_size: int = 256
) -> dict[str, Any]:
    """Filtered rank-based metrics of ``model`` on ``triples`` (PyKEEN's ``RankBasedEvaluator``).

    :param triples: shape ``(n, 3)``, the triples to rank (both heads and tails)
    :param filter_triples: other known true triples, excluded from the candidate lists
    :return: ``{"both"|"head"|"tail": {"mrr", "hits_at_1", "hits_at_10"}, "triples": n}``
    """
    if len(triples) == 0:
        return {"triples": 0}
    evaluator = RankBasedEvaluator(filtered=True, batch_size=batch_size)
    model.eval()
    result = evaluator.evaluate(
        model=model,
        mapped_triples=triples,
        additional_filter_triples=filter_triples,
        batch_size=batch_size,
        use_tqdm=False,
        do_time_consuming_checks=False,
    )
    out: dict[str, Any] = {
        side: {ours: float(result.get_metric(f"{side}.realistic.{theirs}")) for ours, theirs in METRICS.items()}
        for side in SIDES
    }
    out["triples"] = int(len(triples))
    return out


class EpochTimer(TrainingCallback):
    """PyKEEN training callback timing each epoch's batches (validation time excluded).

    Callbacks passed to ``train`` run before PyKEEN's stopper callback in ``post_epoch``, so
    the clock stops before validation starts.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start: float | None = None

    def pre_batch(self, **kwargs) -> None:
        if self._start is None:
            self._start = time.perf_counter()

    def post_epoch(self, epoch: int, epoch_loss: float, **kwargs) -> None:
        self.seconds.append(time.perf_counter() - (self._start or time.perf_counter()))
        self._start = None


class OneCallSLCWATrainingLoop(SLCWATrainingLoop):
    """PyKEEN's sLCWA loop scoring a batch's positives and negatives in one ``score_hrt`` call.

    PyKEEN scores them in two calls, and every call's entity lookup costs a dense ``(N, d)``
    gradient in the backward pass (zero-filled, scattered into, summed with the other). One call
    on the stacked triples gives the same scores, loss and gradient with one. Everything else is
    PyKEEN's (filtering, weights, the loss's ``process_slcwa_scores``); there is no sub-batching
    or slicing in sLCWA, and neither is used here.
    """

    @staticmethod
    def _process_batch_static(model, loss, mode, batch, start, stop, label_smoothing=0.0, slice_size=None):
        if slice_size is not None or batch.get("masks") is not None or mode is not None:
            return SLCWATrainingLoop._process_batch_static(
                model, loss, mode, batch, start, stop, label_smoothing=label_smoothing, slice_size=slice_size
            )
        positives = batch["positives"][start:stop].to(device=model.device)
        negatives = batch["negatives"][start:stop].to(device=model.device)
        weights = {
            key: (batch[key][start:stop].to(device=model.device) if batch.get(key) is not None else None)
            for key in ("pos_weights", "neg_weights")
        }
        scores = model.score_hrt(torch.cat([positives, negatives.view(-1, 3)]))
        return (
            loss.process_slcwa_scores(
                positive_scores=scores[: len(positives)],
                negative_scores=scores[len(positives) :].view(*negatives.shape[:-1]),
                label_smoothing=label_smoothing,
                batch_filter=None,
                num_entities=model._get_entity_len(mode=mode),
                **weights,
            )
            + model.collect_regularization_term()
        )


def _run_loop(
    model,
    splits: KGSplits,
    config: PretrainConfig,
    epochs: int,
    *,
    stopper_factory=None,
    desc: str,
    progress: bool,
    workdir: Path,
):
    tf = splits.triples_factory(splits.train)
    corruption = ("tail",) if config.corruption == "tail" else ("head", "tail")
    loop = OneCallSLCWATrainingLoop(
        model=model,
        triples_factory=tf,
        optimizer="adam",
        # torch's fused Adam: the same update in one kernel over each table (a third of the unfused
        # update's time on ML-100K's G_u, where the dense (N, d) update is paid every step)
        optimizer_kwargs=dict(lr=config.learning_rate, fused=True),
        negative_sampler="basic",
        negative_sampler_kwargs=dict(num_negs_per_pos=config.negatives, corruption_scheme=corruption),
        # batch sizes are explicit: skip PyKEEN's trial forward/backward pass that searches for one
        automatic_memory_optimization=False,
    )
    timer = EpochTimer()
    stopper = stopper_factory(model) if stopper_factory else None
    losses = loop.train(
        triples_factory=tf,
        num_epochs=epochs,
        batch_size=config.batch_size,
        use_tqdm=progress,
        use_tqdm_batch=False,
        tqdm_kwargs=dict(desc=desc, leave=False),
        stopper=stopper,
        callbacks=[timer],
        checkpoint_directory=workdir,
        pin_memory=False,
    )
    return losses or [], timer.seconds, stopper


def train_transr(splits: KGSplits, config: PretrainConfig, *, progress: bool = True) -> TrainedTransR:
    """Train PyKEEN's TransR on ``splits.train`` (optionally warm-started from TransE).

    Early stopping ranks at most ``config.eval_sample`` validation triples every
    ``config.eval_every`` epochs and keeps the best epoch's weights; the final metrics rank at
    most ``config.eval_sample`` test triples, filtered against all train/valid/test triples.
    Deterministic on CPU for a fixed ``config.seed``.
    """
    device = resolve_device(config.device)
    valid_sample = _sample(splits.valid, config.eval_sample)
    test_sample = _sample(splits.test, config.eval_sample)
    metrics: dict[str, Any] = {
        "graph": splits.name,
        "device": str(device),
        "split": {
            "train": len(splits.train),
            "valid": len(splits.valid),
            "test": len(splits.test),
            "valid_ranked": len(valid_sample),
            "test_ranked": len(test_sample),
        },
        "inverse_relations": "not trained; e_inv = -e_r, W_inv = W_r (exact: g(t, r_inv, h) = g(h, r, t))",
    }
    with training_runtime(config.threads), tempfile.TemporaryDirectory(prefix="ckg-pretrain-") as tmp:
        workdir = Path(tmp)
        init: dict[str, torch.Tensor] = {}
        if config.warm_start == "transe" and config.warm_start_epochs > 0:
            set_random_seed(config.seed)
            transe = build_transe(
                splits.triples_factory(splits.train),
                embedding_dim=config.embedding_dim,
                loss=PairwiseLogisticLoss(),
                random_seed=config.seed,
            ).to(device)
            t0 = time.perf_counter()
            losses, seconds, _ = _run_loop(
                transe,
                splits,
                config,
                config.warm_start_epochs,
                desc=f"TransE warm start {splits.name}",
                progress=progress,
                workdir=workdir,
            )
            ent, rel = transe_tensors(transe)
            init = dict(
                zip(("entity", "relation", "projection"), warm_start_from_transe(ent, rel, config.relation_dim))
            )
            metrics["warm_start"] = {
                "method": "transe",
                "epochs": config.warm_start_epochs,
                "seconds": time.perf_counter() - t0,
                "seconds_per_epoch": _mean(seconds),
                "final_loss": losses[-1] if losses else None,
            }
            del transe
        else:
            metrics["warm_start"] = {"method": "none"}

        set_random_seed(config.seed)
        model = build_transr(
            splits.triples_factory(splits.train),
            embedding_dim=config.embedding_dim,
            relation_dim=config.relation_dim,
            loss=PairwiseLogisticLoss(),
            random_seed=config.seed,
            scorer=config.scorer,
            **init,
        ).to(device)

        stopper_factory = None
        if config.patience > 0 and len(valid_sample):
            known = splits.triples_factory(torch.cat([splits.train, splits.valid]))

            def stopper_factory(m):
                return EarlyStopper(
                    model=m,
                    evaluator=RankBasedEvaluator(filtered=True, batch_size=config.eval_batch_size),
                    training_triples_factory=known,  # only used as the filter
                    evaluation_triples_factory=splits.triples_factory(valid_sample),
                    evaluation_batch_size=config.eval_batch_size,
                    frequency=config.eval_every,
                    patience=config.patience,
                    metric="both.realistic.inverse_harmonic_mean_rank",
                    relative_delta=config.min_relative_improvement,
                    best_model_path=workdir / "best-stopper.pt",
                )

        t0 = time.perf_counter()
        losses, seconds, stopper = _run_loop(
            model,
            splits,
            config,
            config.epochs,
            stopper_factory=stopper_factory,
            desc=f"TransR {splits.name}",
            progress=progress,
            workdir=workdir,
        )
        total = time.perf_counter() - t0
        metrics.update(
            epochs_run=len(losses),
            seconds_per_epoch=_mean(seconds),
            train_seconds=sum(seconds),
            validation_seconds=max(total - sum(seconds), 0.0),
            final_loss=losses[-1] if losses else None,
            epoch_seconds=seconds,
        )
        if stopper is not None:
            # PyKEEN reloads the best weights when it stops early, but not when the epochs run
            # out after the best validation; its stopper kept them on disk, so reload here.
            restored = stopper.stopped
            if (
                not stopper.stopped
                and stopper.best_epoch not in (None, len(losses))
                and stopper.best_model_path.is_file()
            ):
                model.load_state_dict(torch.load(stopper.best_model_path, weights_only=True))
                restored = True
            metrics["early_stopping"] = {
                "metric": "valid both MRR (filtered)",
                "history": [
                    {"epoch": config.eval_every * (i + 1), "mrr": float(v)} for i, v in enumerate(stopper.results)
                ],
                "best_epoch": stopper.best_epoch,
                "stopped_early": bool(stopper.stopped),
                "weights_of_epoch": stopper.best_epoch if restored else len(losses),
            }
        t0 = time.perf_counter()
        metrics["test"] = evaluate_link_prediction(
            model, test_sample, [splits.train, splits.valid, splits.test], batch_size=config.eval_batch_size
        )
        metrics["test_seconds"] = time.perf_counter() - t0
        entity, relation, projection = transr_tensors(model)
    return TrainedTransR(entity=entity, relation=relation, projection=projection, metrics=metrics)


def evaluate_tensors(
    splits: KGSplits,
    config: PretrainConfig,
    entity: torch.Tensor | None = None,
    relation: torch.Tensor | None = None,
    projection: torch.Tensor | None = None,
    *,
    part: str = "test",
) -> dict[str, Any]:
    """Metrics of a TransR with the given forward-relation tensors (``None``: random init) on the
    same ``part`` sample ("test" or "valid") and filter that :func:`train_transr` uses.

    Used for the untrained baseline and to check that saved embeddings score as trained.
    Shapes: ``entity`` ``(N, d)``, ``relation`` ``(R, k)``, ``projection`` ``(R, d, k)``.
    """
    if part not in ("test", "valid"):
        raise ConfigError(f"part must be 'test' or 'valid', got {part!r}")
    sample = _sample(getattr(splits, part), config.eval_sample)
    known = [splits.train, splits.valid, splits.test] if part == "test" else [splits.train, splits.valid]
    init = {k: v for k, v in dict(entity=entity, relation=relation, projection=projection).items() if v is not None}
    with training_runtime(config.threads):
        set_random_seed(config.seed)
        model = build_transr(
            splits.triples_factory(splits.train),
            embedding_dim=config.embedding_dim,
            relation_dim=config.relation_dim,
            loss=PairwiseLogisticLoss(),
            random_seed=config.seed,
            scorer=config.scorer,
            **init,
        ).to(resolve_device(config.device))
        return evaluate_link_prediction(model, sample, known, batch_size=config.eval_batch_size)


def pretrain_store(
    store, config: PretrainConfig, graphs: tuple[str, ...] = GRAPHS, *, progress: bool = True, log=print
) -> dict[str, Path]:
    """Pretrain TransR on each graph of ``store`` and write ``STORE/pretrained/<graph>.*``.

    :return: graph -> path of the written tensor file
    """
    from ckgrec.model.data.pretrained import DIRECTORY
    from ckgrec.model.pretraining.save import save_pretrained
    from ckgrec.schemas.locks import exclusive_lock

    folder = Path(store.path) / DIRECTORY
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder / ".lock", f"pretrained folder {folder}", command="another 'ckg pretrain'"):
        for p in folder.glob(".*.tmp"):  # writes of a killed pretraining; we hold the lock, so nobody is writing
            p.unlink(missing_ok=True)
        return _pretrain_graphs(store, config, graphs, progress=progress, log=log, save_pretrained=save_pretrained)


def _pretrain_graphs(store, config, graphs, *, progress, log, save_pretrained) -> dict[str, Path]:
    written = {}
    for graph in graphs:
        splits = splits_from_store(store, graph, holdout=config.holdout, seed=config.seed)
        log(
            f"{graph}: {splits.num_entities:,} entities, {splits.num_relations} relations (+{splits.num_relations} inverse), "
            f"{len(splits.train):,} train / {len(splits.valid):,} valid / {len(splits.test):,} test triples"
        )
        trained = train_transr(splits, config, progress=progress)
        written[graph] = save_pretrained(store, graph, trained, config)
        log(f"{graph}: {format_metrics(trained.metrics)}")
        log(f"{graph}: wrote {written[graph]}")
    return written


def format_metrics(m: dict[str, Any]) -> str:
    """One line: epochs, seconds/epoch and the test metrics."""
    parts = [f"{m.get('epochs_run', 0)} epochs, {m.get('seconds_per_epoch', float('nan')):.2f} s/epoch"]
    es = m.get("early_stopping")
    if es:
        parts.append(f"best epoch {es['best_epoch']}" + (" (stopped early)" if es["stopped_early"] else ""))
    test = m.get("test", {})
    if test.get("triples"):
        b = test["both"]
        parts.append(
            f"test ({test['triples']} triples, filtered, both sides) MRR {b['mrr']:.4f} "
            f"Hits@1 {b['hits_at_1']:.4f} Hits@10 {b['hits_at_10']:.4f}"
        )
    return "; ".join(parts)


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan
