"""Our stateless TransR against PyKEEN's TransRInteraction, loss and model on the same tensors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ckgrec.model.nn.transr import (
    add_inverse_relations,
    distances_to_all,
    pairwise_logistic_loss,
    project,
    project_by_relation,
    transr_distance,
    transr_kg_loss,
    transr_score,
)

torch.set_num_threads(1)


def _tensors(B=32, d=6, k=4, scale=1.5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    # scale > 1 pushes many projected vectors outside the unit ball, so the clamp matters
    h, t = (scale * torch.randn(B, d, generator=g, dtype=dtype) for _ in range(2))
    r = torch.randn(B, k, generator=g, dtype=dtype)
    W = 0.25 * torch.randn(B, d, k, generator=g, dtype=dtype)
    return h, r, t, W


def test_score_equals_pykeen_transr_interaction():
    from pykeen.nn.modules import TransRInteraction

    h, r, t, W = _tensors()
    assert (project(h, W).norm(dim=-1) > 1).any() and (project(h, W).norm(dim=-1) < 1).any()
    theirs = TransRInteraction(p=2, power_norm=True)(h=h, r=(r, W), t=t)
    torch.testing.assert_close(transr_score(h, r, t, W), theirs)
    torch.testing.assert_close(transr_distance(h, r, t, W), -theirs)


def test_score_without_clamp_is_the_plain_squared_distance():
    h, r, t, W = _tensors()
    plain = ((h.unsqueeze(1) @ W).squeeze(1) + r - (t.unsqueeze(1) @ W).squeeze(1)).pow(2).sum(-1)
    torch.testing.assert_close(transr_distance(h, r, t, W, max_norm=None), plain)


def test_score_broadcasts_one_head_against_all_tails():
    h, r, t, W = _tensors(B=5)
    # (B, 1, d) heads vs (1, N, d) tails with (B, 1, d, k) projections -> (B, N)
    scores = transr_score(h[:, None], r[:, None], t[None, :], W[:, None])
    assert scores.shape == (5, 5)
    torch.testing.assert_close(scores.diagonal(), transr_score(h, r, t, W))


def test_project_by_relation_equals_per_triple_projection_with_gradients():
    g = torch.Generator().manual_seed(1)
    R, B, d, k = 5, 40, 6, 3
    e = torch.randn(B, d, generator=g, dtype=torch.float64, requires_grad=True)
    W = torch.randn(R, d, k, generator=g, dtype=torch.float64, requires_grad=True)
    rel = torch.randint(0, R - 1, (B,), generator=g)  # relation R-1 unused: an empty segment
    ours = project_by_relation(e, rel, W)
    ref = project(e, W[rel])
    torch.testing.assert_close(ours, ref)
    w = torch.randn(B, k, generator=g, dtype=torch.float64)
    g_ours = torch.autograd.grad((ours * w).sum(), (e, W))
    g_ref = torch.autograd.grad((ref * w).sum(), (e, W))
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b)


def test_inverse_rows_score_reversed_triples_identically():
    g = torch.Generator().manual_seed(2)
    R, N, d, k = 3, 10, 5, 4
    ent = 2 * torch.randn(N, d, generator=g, dtype=torch.float64)
    rel, proj = add_inverse_relations(
        torch.randn(R, k, generator=g, dtype=torch.float64), torch.randn(R, d, k, generator=g, dtype=torch.float64)
    )
    assert rel.shape == (2 * R, k) and proj.shape == (2 * R, d, k)
    h, r, t = (
        torch.randint(0, N, (20,), generator=g),
        torch.randint(0, R, (20,), generator=g),
        torch.randint(0, N, (20,), generator=g),
    )
    fwd = transr_score(ent[h], rel[r], ent[t], proj[r])
    inv = transr_score(ent[t], rel[r + R], ent[h], proj[r + R])
    torch.testing.assert_close(fwd, inv)


def test_kg_loss_is_minus_log_sigmoid_and_equals_pykeen_pairwise_logistic():
    from pykeen.losses import PairwiseLogisticLoss

    h, r, t, W = _tensors(seed=3)
    _, _, t_neg, _ = _tensors(seed=4)
    ours = transr_kg_loss(h, r, t, t_neg, W)
    g_pos, g_neg = transr_distance(h, r, t, W), transr_distance(h, r, t_neg, W)
    torch.testing.assert_close(ours, -F.logsigmoid(g_neg - g_pos).mean())
    theirs = PairwiseLogisticLoss()(pos_scores=-g_pos, neg_scores=-g_neg)
    torch.testing.assert_close(ours, theirs)


def test_kg_loss_with_several_negatives_per_positive():
    h, r, t, W = _tensors(B=8, seed=5)
    negs = torch.stack([_tensors(B=8, seed=s)[2] for s in (6, 7, 8)], dim=1)  # (B, 3, d)
    ours = transr_kg_loss(h, r, t, negs, W, reduction="none")
    assert ours.shape == (8, 3)
    for j in range(3):
        torch.testing.assert_close(ours[:, j], transr_kg_loss(h, r, t, negs[:, j], W, reduction="none"))
    with pytest.raises(ValueError, match="reduction"):
        pairwise_logistic_loss(ours[:, 0], ours[:, 1], reduction="avg")


def test_distances_to_all_equals_cdist_squared():
    g = torch.Generator().manual_seed(9)
    q, c = torch.randn(7, 4, generator=g, dtype=torch.float64), torch.randn(11, 4, generator=g, dtype=torch.float64)
    torch.testing.assert_close(distances_to_all(q, c), torch.cdist(q, c).pow(2))


def test_grouped_transr_scores_equal_pykeen_transr_on_the_same_parameters():
    """The fast scorer is PyKEEN's model with other arithmetic: score_hrt, score_t, score_h agree."""
    from pykeen.losses import PairwiseLogisticLoss
    from pykeen.triples import CoreTriplesFactory

    from ckgrec.model.pretraining.pykeen_models import build_transr

    g = torch.Generator().manual_seed(10)
    N, R = 30, 4
    triples = torch.stack(
        [
            torch.randint(0, N, (200,), generator=g),
            torch.randint(0, R, (200,), generator=g),
            torch.randint(0, N, (200,), generator=g),
        ],
        1,
    )
    tf = CoreTriplesFactory(mapped_triples=triples, num_entities=N, num_relations=R)
    entity = 0.5 * torch.randn(N, 8, generator=g)
    relation = 0.3 * torch.randn(R, 6, generator=g)
    projection = torch.randn(R, 8, 6, generator=g)  # large: projected vectors get clamped
    kw = dict(
        embedding_dim=8,
        relation_dim=6,
        loss=PairwiseLogisticLoss(),
        random_seed=0,
        entity=entity,
        relation=relation,
        projection=projection,
    )
    plain, grouped = build_transr(tf, scorer="pykeen", **kw), build_transr(tf, scorer="grouped", **kw)
    assert type(grouped).__name__ == "GroupedTransR"
    batch = triples[:50]
    torch.testing.assert_close(grouped.score_hrt(batch), plain.score_hrt(batch), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grouped.score_t(batch[:, :2]), plain.score_t(batch[:, :2]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grouped.score_h(batch[:, 1:]), plain.score_h(batch[:, 1:]), atol=1e-5, rtol=1e-5)
    ids = torch.tensor([3, 1, 4])
    torch.testing.assert_close(
        grouped.score_t(batch[:, :2], tails=ids), plain.score_t(batch[:, :2], tails=ids), atol=1e-5, rtol=1e-5
    )
    # and both equal our functional score on the stored (constrained) tensors
    from ckgrec.model.pretraining.pykeen_models import transr_tensors

    E, Rv, P = transr_tensors(plain)
    h, r, t = batch.T
    torch.testing.assert_close(
        plain.score_hrt(batch).squeeze(-1), transr_score(E[h], Rv[r], E[t], P[r]), atol=1e-5, rtol=1e-5
    )
