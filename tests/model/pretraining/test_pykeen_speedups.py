"""The pretraining speed-ups change how PyKEEN's work is done, not what it computes: the cheaper
entity constraint, TransE's single lookup and the one-call sLCWA loop give PyKEEN's values."""

from __future__ import annotations

import torch
from pykeen.datasets import Nations
from pykeen.losses import PairwiseLogisticLoss
from pykeen.models import TransE
from pykeen.sampling import BasicNegativeSampler
from pykeen.training import SLCWATrainingLoop
from pykeen.utils import clamp_norm

from ckgrec.model.pretraining.pretrain import OneCallSLCWATrainingLoop
from ckgrec.model.pretraining.pykeen_models import OneLookupTransE, build_transe, build_transr, clamp_rows


def test_clamp_rows_is_pykeens_clamp_norm_and_leaves_rows_in_the_ball_untouched():
    x = torch.randn(500, 16, generator=torch.Generator().manual_seed(0)) * 0.4
    ours, theirs = clamp_rows(x, maxnorm=1.0, p=2, dim=-1), clamp_norm(x, maxnorm=1.0, p=2, dim=-1)
    inside = x.norm(dim=-1) < 1.0
    assert 0 < int(inside.sum()) < len(x)  # both kinds of row are present
    assert torch.equal(ours[inside], x[inside])
    torch.testing.assert_close(ours, theirs)
    assert float(ours.norm(dim=-1).max()) <= 1.0 + 1e-6


def _nations_batch(tf, n: int = 64, negatives: int = 4):
    torch.manual_seed(3)
    positives = tf.mapped_triples[:n]
    sampler = BasicNegativeSampler(mapped_triples=tf.mapped_triples, num_negs_per_pos=negatives)
    negative_batch, _ = sampler.sample(positives)
    return {"positives": positives, "negatives": negative_batch}


def test_one_lookup_transe_scores_as_pykeens_transe():
    tf = Nations().training
    ours = build_transe(tf, embedding_dim=8, loss=PairwiseLogisticLoss(), random_seed=1)
    assert isinstance(ours, OneLookupTransE)
    theirs = TransE(triples_factory=tf, embedding_dim=8, scoring_fct_norm=2, power_norm=True, random_seed=1)
    theirs.load_state_dict(ours.state_dict())
    batch = tf.mapped_triples[:50]
    torch.testing.assert_close(ours.score_hrt(batch), theirs.score_hrt(batch))


def test_one_call_loop_gives_pykeens_loss_and_gradient():
    tf = Nations().training
    batch = _nations_batch(tf)
    for build in (
        lambda: build_transe(tf, embedding_dim=8, loss=PairwiseLogisticLoss(), random_seed=1),
        lambda: build_transr(tf, embedding_dim=8, relation_dim=6, loss=PairwiseLogisticLoss(), random_seed=1),
    ):
        results = []
        for loop in (OneCallSLCWATrainingLoop, SLCWATrainingLoop):
            model = build()
            loss = loop._process_batch_static(model, model.loss, None, batch, 0, len(batch["positives"]))
            loss.backward()
            results.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
        (ours, ours_grad), (theirs, theirs_grad) = results
        torch.testing.assert_close(ours, theirs)
        for a, b in zip(ours_grad, theirs_grad):
            torch.testing.assert_close(a, b)
