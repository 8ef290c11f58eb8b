"""Loss functions shared by models; stateless, on tensors.

Shapes: ``pos`` (B,) scores of positives, ``neg`` (B, k) scores of sampled negatives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bpr_loss(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Bayesian personalised ranking: mean over (B, k) of ``-log σ(s_pos - s_neg)``."""
    return -F.logsigmoid(pos.unsqueeze(1) - neg).mean()


def bce_loss(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Pointwise log loss (NCF): positives labelled 1, negatives 0, mean over all B(1 + k) logits."""
    logits = torch.cat([pos.unsqueeze(1), neg], 1)
    labels = torch.zeros_like(logits)
    labels[:, 0] = 1.0
    return F.binary_cross_entropy_with_logits(logits, labels)


def embedding_l2(*tensors: torch.Tensor) -> torch.Tensor:
    """``½ Σ‖e‖²`` over the given embedding rows divided by the batch size (rows of the first).

    The LightGCN / NGCF reference code's regulariser: only the embeddings a batch touches
    are penalised, so rare items are not shrunk every step.
    """
    batch = tensors[0].shape[0]
    return 0.5 * sum((t * t).sum() for t in tensors) / max(1, batch)


def info_nce(view1: torch.Tensor, view2: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE between two views of the same rows, the other rows as negatives (SimGCL, SGL).

    Shapes: ``view1``, ``view2`` (n, d); row r of each is a positive pair. With unit rows
    z' = z / ‖z‖: ``-1/n Σ_r log( exp(z'1_r·z'2_r / τ) / Σ_s exp(z'1_r·z'2_s / τ) )``.
    """
    z1, z2 = F.normalize(view1, dim=1), F.normalize(view2, dim=1)
    logits = z1 @ z2.T / temperature
    return -torch.diagonal(F.log_softmax(logits, dim=1)).mean()
