"""PyKEEN's TransR with every option set explicitly, and a relation-grouped scoring path.

Why explicit: PyKEEN's ``TransR`` class defaults (relation_dim=30, L1 norm, no power) differ
from its CLI defaults (relation_dim=50) and from the paper's squared L2 distance that the
recommender uses; :func:`build_transr` pins p=2, power_norm=True, the norm constraints and
the initialisers, so the same numbers come out whichever PyKEEN entry point is used.

Why grouped: PyKEEN scores a batch by gathering one ``(d, k)`` projection per triple and
running ``B`` tiny ``(1, d) @ (d, k)`` products; on CPU that bmm (and its backward, which
scatters ``B`` outer products back into the table) dominates an epoch and runs far below the
CPU's matrix-product speed. :class:`GroupedTransR` is the same PyKEEN model (same parameters, constrainers,
loss, training loop, negative sampler and evaluator) whose ``score_hrt`` sorts the batch by
relation and projects each segment with one GEMM (:func:`ckgrec.model.nn.transr.project_by_relation`),
and whose ``score_t``/``score_h`` (used by the evaluator) project all entities once per
relation of the batch instead of once per triple. Scores equal PyKEEN's up to float
round-off (tested).
"""

from __future__ import annotations

import functools
from typing import Iterable, Literal

import torch
from pykeen.models import TransE, TransR
from pykeen.nn.init import PretrainedInitializer, xavier_uniform_, xavier_uniform_norm_

from ckgrec.model.nn.transr import (
    clamp_norm,
    distances_to_all,
    project_by_relation,
    translation_distance,
)

Scorer = Literal["grouped", "pykeen"]


def clamp_rows(x: torch.Tensor, maxnorm: float, p: int | str = 2, dim: int | Iterable[int] | None = -1) -> torch.Tensor:
    """PyKEEN's ``clamp_norm`` constraint (rows longer than ``maxnorm`` scaled onto that sphere) in two
    passes over ``x`` instead of about eight.

    Why: PyKEEN applies the entity constraint to the whole ``(N, d)`` table after every optimiser
    step, and its ``mask * x + (1 - mask) * (x / norm * maxnorm)`` makes a full-size temporary per
    operation; on ML-100K's G_u (35,779 entities) that was a fifth of a TransE step. Here the
    factor min(1, maxnorm / ‖x‖) is an ``(N, 1)`` column, so only the norm and one multiply touch
    the table. Rows within the ball are unchanged bit for bit; the others equal PyKEEN's up to
    float round-off.
    """
    norm = x.norm(p=p, dim=dim, keepdim=True)
    return x * (maxnorm / norm.clamp_min(torch.finfo(x.dtype).eps)).clamp_max(1.0)


class GroupedTransR(TransR):
    """:class:`pykeen.models.TransR` scored one relation segment at a time (transductive only)."""

    def _parts(self):
        entity = self.entity_representations[0]
        relation, projection = self.relation_representations
        return entity, relation, projection

    def score_hrt(self, hrt_batch: torch.Tensor, *, mode=None) -> torch.Tensor:
        """:param hrt_batch: shape ``(B, 3)``; :return: shape ``(B, 1)``, scores ``-g``."""
        if mode is not None:
            return super().score_hrt(hrt_batch, mode=mode)
        entity, relation, projection = self._parts()
        W = projection(indices=None)  # (R, d, k)
        rel = hrt_batch[:, 1]
        ents = entity(indices=torch.cat([hrt_batch[:, 0], hrt_batch[:, 2]]))
        both = project_by_relation(ents, torch.cat([rel, rel]), W)
        h_bot, t_bot = both.chunk(2)
        dist = translation_distance(h_bot, relation(indices=rel), t_bot, self.interaction.max_projection_norm)
        return -dist.unsqueeze(-1)

    def _score_all(
        self, fixed: torch.Tensor, rel: torch.Tensor, candidates: torch.Tensor | None, fixed_is_head: bool
    ) -> torch.Tensor:
        entity, relation, projection = self._parts()
        W = projection(indices=None)
        cand = entity(indices=candidates)  # (N, d)
        fixed_e = entity(indices=fixed)  # (B, d)
        r_vec = relation(indices=rel)  # (B, k)
        max_norm = self.interaction.max_projection_norm
        out = cand.new_empty((fixed.shape[0], cand.shape[0]))
        for r in torch.unique(rel).tolist():
            rows = (rel == r).nonzero(as_tuple=True)[0]
            cand_bot = clamp_norm(cand @ W[r], max_norm)  # (N, k)
            fixed_bot = clamp_norm(fixed_e[rows] @ W[r], max_norm)
            # head fixed: g = |h + r - t|^2 = |t - (h + r)|^2; tail fixed: |h - (t - r)|^2
            query = fixed_bot + r_vec[rows] if fixed_is_head else fixed_bot - r_vec[rows]
            out[rows] = -distances_to_all(query, cand_bot)
        return out

    def score_t(self, hr_batch: torch.Tensor, *, slice_size=None, mode=None, tails=None) -> torch.Tensor:
        """:param hr_batch: shape ``(B, 2)``; :return: shape ``(B, N)`` (or ``(B, len(tails))``)."""
        if mode is not None or (tails is not None and tails.ndim != 1):
            return super().score_t(hr_batch, slice_size=slice_size, mode=mode, tails=tails)
        return self._score_all(hr_batch[:, 0], hr_batch[:, 1], tails, fixed_is_head=True)

    def score_h(self, rt_batch: torch.Tensor, *, slice_size=None, mode=None, heads=None) -> torch.Tensor:
        """:param rt_batch: shape ``(B, 2)``; :return: shape ``(B, N)`` (or ``(B, len(heads))``)."""
        if mode is not None or (heads is not None and heads.ndim != 1):
            return super().score_h(rt_batch, slice_size=slice_size, mode=mode, heads=heads)
        return self._score_all(rt_batch[:, 1], rt_batch[:, 0], heads, fixed_is_head=False)


#: Radius of the entity, relation and projected-vector balls. Fixed: PyKEEN's TransR passes its
#: ``max_projection_norm`` to the constrainers but leaves the interaction's clamp at 1.0.
MAX_NORM = 1.0


def _init(tensor: torch.Tensor | None, default):
    # a copy: PyKEEN adopts the initialiser's tensor as the parameter storage and trains it in place
    return PretrainedInitializer(tensor=tensor.detach().clone()) if tensor is not None else default


def build_transr(
    triples_factory,
    *,
    embedding_dim: int,
    relation_dim: int,
    loss,
    random_seed: int,
    scorer: Scorer = "grouped",
    entity: torch.Tensor | None = None,
    relation: torch.Tensor | None = None,
    projection: torch.Tensor | None = None,
) -> TransR:
    """PyKEEN TransR with explicit options; optional tensors become ``PretrainedInitializer``\\ s.

    :param entity: shape ``(N, d)`` initial entity embeddings (warm start), else Xavier uniform
    :param relation: shape ``(R, k)``, else Xavier uniform rows normalised to unit length
    :param projection: shape ``(R, d, k)``, else Xavier uniform (PyKEEN's defaults otherwise)
    """
    cls = GroupedTransR if scorer == "grouped" else TransR
    return cls(
        triples_factory=triples_factory,
        embedding_dim=embedding_dim,
        relation_dim=relation_dim,
        max_projection_norm=MAX_NORM,
        scoring_fct_norm=2,
        power_norm=True,
        entity_initializer=_init(entity, xavier_uniform_),
        entity_constrainer=clamp_rows,
        relation_initializer=_init(relation, xavier_uniform_norm_),
        relation_constrainer=clamp_rows,
        relation_projection_initializer=_init(projection, torch.nn.init.xavier_uniform_),
        loss=loss,
        random_seed=random_seed,
    )


class OneLookupTransE(TransE):
    """:class:`pykeen.models.TransE` whose ``score_hrt`` looks heads and tails up together.

    Each lookup of the entity table costs a dense ``(N, d)`` gradient in the backward pass
    (zero-filled, scattered into, then summed with the others); PyKEEN's ``score_hrt`` looks heads
    and tails up separately. One lookup of both gives the same scores and the same summed gradient
    with half the dense work."""

    def score_hrt(self, hrt_batch: torch.Tensor, *, mode=None) -> torch.Tensor:
        """:param hrt_batch: shape ``(B, 3)``; :return: shape ``(B, 1)``, scores ``-‖h + r - t‖²``."""
        if mode is not None:
            return super().score_hrt(hrt_batch, mode=mode)
        h, t = self.entity_representations[0](indices=torch.cat([hrt_batch[:, 0], hrt_batch[:, 2]])).chunk(2)
        r = self.relation_representations[0](indices=hrt_batch[:, 1])
        return self.interaction(h=h, r=r, t=t).unsqueeze(dim=-1)


def build_transe(triples_factory, *, embedding_dim: int, loss, random_seed: int) -> TransE:
    """PyKEEN TransE with the TransR distance at ``W = I``: squared L2, entities clamped to the unit ball."""
    return OneLookupTransE(
        triples_factory=triples_factory,
        embedding_dim=embedding_dim,
        scoring_fct_norm=2,
        power_norm=True,
        entity_initializer=xavier_uniform_,
        entity_constrainer=functools.partial(clamp_rows, maxnorm=MAX_NORM, p=2, dim=-1),
        relation_initializer=xavier_uniform_norm_,
        loss=loss,
        random_seed=random_seed,
    )


def transr_tensors(model: TransR) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(entity ``(N, d)``, relation ``(R, k)``, projection ``(R, d, k)``) detached, on the CPU."""
    entity = model.entity_representations[0](indices=None)
    relation, projection = (rep(indices=None) for rep in model.relation_representations)
    return tuple(x.detach().to("cpu", torch.float32).contiguous().clone() for x in (entity, relation, projection))


def transe_tensors(model: TransE) -> tuple[torch.Tensor, torch.Tensor]:
    """(entity ``(N, d)``, relation ``(R, d)``) of a TransE model, detached, on the CPU."""
    entity = model.entity_representations[0](indices=None)
    relation = model.relation_representations[0](indices=None)
    return tuple(x.detach().to("cpu", torch.float32).contiguous().clone() for x in (entity, relation))


def warm_start_from_transe(
    entity: torch.Tensor, relation: torch.Tensor, relation_dim: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The standard TransR warm start (Lin et al. 2015): TransE vectors, identity projections.

    ``W_r = I`` (rectangular ``(d, k)`` when ``d != k``: the first ``min(d, k)`` coordinates),
    and ``e_r`` is the TransE relation vector under the same map, so the TransR distance at
    initialisation equals the TransE distance when ``d == k``.

    :param entity: shape ``(N, d)``; :param relation: shape ``(R, d)``
    :return: entity ``(N, d)``, relation ``(R, k)``, projection ``(R, d, k)``
    """
    d = entity.shape[1]
    eye = torch.eye(d, relation_dim, dtype=entity.dtype)
    return entity.clone(), relation @ eye, eye.expand(relation.shape[0], d, relation_dim).clone()
