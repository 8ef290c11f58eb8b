"""The one interface every recommender implements, so the trainer and evaluator treat all alike.

Life cycle, as driven by :mod:`ckgrec.model.training.trainer` and :mod:`ckgrec.model.evaluation.evaluator`::

    model = Cls.build(data, config, device)       # sizes and graphs from data, hyperparameters from config
    if not Cls.trainable:
        model.fit_closed_form(data)               # mostpop, ease: no epochs
    else:
        for epoch in 1..E:
            model.on_epoch_start(epoch, generator)
            for batch in BPR batches:             # phase "cf"
                total, parts = model.objective(batch, l2)    # loss + l2 * regularization
            for phase in Cls.extra_phases:        # e.g. KGAT's "kg" phase, its own optimiser (or the CF one)
                for b in model.phase_batches(phase, epoch, generator):
                    model.phase_loss(phase, b)
            model.on_epoch_end(epoch)
    with model.scoring():                          # eval mode, no grad, caches (propagated embeddings)
        model.score_users(users)                  # [B, n_items], higher = better

Randomness: ``generator`` is the trainer's :class:`torch.Generator` (its state is checkpointed);
dropout uses torch's global generator (also checkpointed). A model must draw from nothing else,
or a resumed run stops being identical to an uninterrupted one.

L2: the trainer owns the coefficient (``--l2``, default per model in ``train_defaults``) and
multiplies it with :meth:`Recommender.regularization`, which the model defines as the penalty of
its paper (e.g. ``½‖e‖²`` of the batch's ego embeddings divided by the batch size for
BPR-MF/LightGCN/NGCF). The default penalty is ``½‖θ‖²`` over all parameters (plain weight decay).
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Mapping

import torch
from torch import nn

from ckgrec.model.core.options import check_option
from ckgrec.model.core.search_space import Param

if TYPE_CHECKING:
    from ckgrec.model.data.train_data import TrainData


@dataclass(frozen=True)
class Batch:
    """BPR triples: ``users`` (B,), ``pos`` (B,) training positives, ``neg`` (B, k) sampled items
    that are not training items of the user."""

    users: torch.Tensor
    pos: torch.Tensor
    neg: torch.Tensor

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(self.users.to(device), self.pos.to(device), self.neg.to(device))

    def __len__(self) -> int:
        return int(self.users.numel())


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Base of every model's ``Config``: frozen, keyword-only, validated in ``__post_init__``.

    Declare each field with :func:`option`: its help, and its valid values (``choices``) or range
    (``low``/``high``) beside it. ``__post_init__`` checks every declared rule, so a model's own
    ``__post_init__`` (which calls ``super().__post_init__()``) keeps only rules between fields.
    ``ckg models`` prints the help and the rule; ``--set key=value`` is typed by the annotation.
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check_option(f.name, getattr(self, f.name), f.metadata)


def option(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    **kwargs: Any,
) -> Any:
    """A config field with its ``--help`` text and its valid values, checked by :class:`ModelConfig`.

    :param choices: the allowed values of a string option
    :param low: smallest allowed value of a number, or of each element of a tuple; exclusive when ``low_open``
    :param high: largest allowed value; exclusive when ``high_open``
    """
    meta = {"help": help, "choices": choices, "low": low, "high": high, "low_open": low_open, "high_open": high_open}
    return dataclasses.field(default=default, metadata=meta, **kwargs)


class Recommender(nn.Module, abc.ABC):
    """Abstract recommender: scores every item for a batch of users, and learns from batches.

    Class attributes a model sets:

    * ``name`` -- the ``--model`` value; ``description``/``paper`` -- one line each for ``ckg models``.
    * ``Config`` -- its frozen dataclass of hyperparameters (paper defaults, documented).
    * ``train_defaults`` -- paper defaults of trainer options (``lr``, ``batch_size``, ``l2``,
      ``epochs``, ``num_negatives``) that differ from the trainer's own.
    * ``trainable`` -- False for closed-form models (``fit_closed_form`` instead of epochs).
    * ``is_baseline`` -- True for the reference baselines ``ckg compare`` tests against.
    * ``can_score_cold_items`` -- True when items without training interactions still get an
      informed score (content or KG models); ID-only models score them from their untrained
      initialisation.
    * ``can_score_cold_users`` -- True when a user with no training pair still gets an informed
      ranking: popularity, a learned item bias, or the user's profile edges in a graph. ID-only
      and history-based models (an untrained user embedding, an empty history) do not; their
      k = 0 cold-user figure is "n/a" (:mod:`ckgrec.model.evaluation.groups`). A model may set it per instance when
      the answer depends on its configuration (``dualkgat`` without the item-side graph).
    * ``extra_phases`` -- names of additional per-epoch training phases (KGAT: ``("kg",)``).
    * ``known_answer_test`` -- ``"tests/<file>.py::<test>"``: where a model outside
      ``model.baselines`` tests that it learns a known answer (checked by a meta-test).
    * ``defaults_source`` -- one line for ``ckg models``: where the defaults come from when they are not
      the paper's (chosen from ``ckg tune`` studies, and on which data).
    * ``search_space`` -- what ``ckg tune`` searches: option name -> :mod:`ckgrec.model.core.search_space`
      parameter, each naming its table (``"train"``: a trainer option such as ``lr``; ``"model"``: a
      field of ``Config``) and its range, taken from the model's paper. Empty: nothing to tune.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    train_defaults: ClassVar[Mapping[str, Any]] = {}
    trainable: ClassVar[bool] = True
    is_baseline: ClassVar[bool] = False
    can_score_cold_items: ClassVar[bool] = False
    can_score_cold_users: bool = False  # class default; an instance may override it
    extra_phases: ClassVar[tuple[str, ...]] = ()
    known_answer_test: ClassVar[str | None] = None
    search_space: ClassVar[Mapping[str, Param]] = {}
    defaults_source: ClassVar[str] = ""
    # False when the loss of a batch is not the row-weighted sum of the losses of its parts (SimGCL's
    # contrast over the batch): data-parallel training, which splits every batch, refuses such a model
    loss_splits_by_rows: ClassVar[bool] = True

    def __init__(self, n_users: int, n_items: int):
        super().__init__()
        self.n_users = int(n_users)
        self.n_items = int(n_items)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def build(cls, data: "TrainData", config: ModelConfig, device: torch.device) -> "Recommender":
        """Construct the model on ``device`` from the data's sizes/graphs and ``config``."""

    def fit_closed_form(self, data: "TrainData") -> None:
        """Closed-form fit (models with ``trainable = False``)."""
        raise NotImplementedError(f"{self.name} is trained by epochs, not in closed form")

    # ---- training -------------------------------------------------------------------------
    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Data loss of a BPR batch (scalar, differentiable) and its named parts (detached)."""
        raise NotImplementedError(f"{self.name} has no training loss")

    def objective(self, batch: Batch, l2: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """What the trainer minimises on a BPR batch: ``loss + l2 · regularization``, and its parts.

        A model whose penalty reuses the vectors of its loss overrides this (dualkgat), so that
        nothing passes between ``loss`` and ``regularization`` through attributes.
        """
        loss, parts = self.loss(batch)
        if l2 > 0:
            reg = self.regularization(batch)
            parts = {**parts, "reg": reg.detach()}
            loss = loss + l2 * reg
        return loss, parts

    def regularization(self, batch: Batch) -> torch.Tensor:
        """Unweighted L2 penalty for this batch; the trainer multiplies it by ``l2``.

        Default: ``½ Σ‖θ‖²`` over all parameters, i.e. weight decay.
        """
        return 0.5 * sum((p * p).sum() for p in self.parameters())

    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        """Per-epoch work before the CF phase (e.g. resampling neighbours)."""

    def on_epoch_end(self, epoch: int) -> None:
        """Per-epoch work after all phases (e.g. KGAT's attention update)."""

    def phase_batches(self, phase: str, epoch: int, generator: torch.Generator) -> Iterable[Any]:
        """Batches of an extra phase (named in ``extra_phases``), drawn from ``generator``."""
        raise NotImplementedError(f"{self.name} declares no phase '{phase}'")

    def phase_loss(self, phase: str, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss of one batch of an extra phase; the trainer steps that phase's optimiser."""
        raise NotImplementedError(f"{self.name} declares no phase '{phase}'")

    def phase_shares_cf_optimizer(self, phase: str) -> bool:
        """Whether an extra phase steps the CF phase's optimiser instead of one of its own. Why it
        matters: Adam divides each step by the running size of the gradients it has seen, so an
        optimiser of its own moves the embeddings as far per batch whatever the phase's loss
        weight, while a shared one scales the phase's steps by the CF gradients' size too."""
        return False

    def select_on_validation(self, valid_value: Callable[[], float]) -> dict[str, Any] | None:
        """Choose what training does not learn, on the validation split, once training is over.

        The trainer calls it on the best state; ``valid_value()`` ranks the validation split with
        the model as it is now and returns the ``valid_metric`` value. A model sets its choice in
        its state (buffers), so that ``best.pt`` keeps it, and returns it for ``scores.json``;
        None: nothing chosen (the default). The test split is never seen here.
        """
        return None

    # ---- scoring --------------------------------------------------------------------------
    @abc.abstractmethod
    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        """Scores of every item for ``users``.

        Shapes: ``users`` (B,) long on the model's device -> (B, n_items) float; higher is better.
        Called inside :meth:`scoring`; the evaluator masks seen items itself.
        """

    def prepare_scoring(self) -> None:
        """Compute what scoring reuses across user batches (propagated embeddings)."""

    def release_scoring(self) -> None:
        """Drop what :meth:`prepare_scoring` cached."""

    @contextlib.contextmanager
    def scoring(self) -> Iterator["Recommender"]:
        """Eval mode, no gradients and prepared caches for the duration of the block."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                self.prepare_scoring()
                yield self
        finally:
            self.release_scoring()
            self.train(was_training)

    @property
    def device(self) -> torch.device:
        for t in self.parameters():
            return t.device
        for t in self.buffers():
            return t.device
        return torch.device("cpu")

    def extra_repr(self) -> str:
        return f"n_users={self.n_users}, n_items={self.n_items}"
