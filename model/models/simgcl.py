"""SimGCL (Yu et al., "Are Graph Augmentations Necessary? Simple Graph Contrastive Learning for
Recommendation", SIGIR 2022) and, as an option, XSimGCL's cross-layer contrast (Yu et al.,
"XSimGCL: Towards Extremely Simple Graph Contrastive Learning for Recommendation", TKDE 2023).

LightGCN propagation on ``Â = D^{-1/2} A D^{-1/2}`` (users then items, N = U + I rows), the
final vector the mean of layers 1..L (SimGCL skips the ego layer 0):

    E^{(l+1)} = Â E^{(l)},                     E = 1/L Σ_{l=1..L} E^{(l)}
    noisy view:  E'^{(l+1)} = Â E'^{(l)} + Δ^{(l+1)},   Δ = ε · sign(E') ⊙ normalize_rows(U(0, 1))

so each row's noise has ‖Δ_r‖₂ = ε and stays in the row's orthant. With B_u, B_i the batch's
distinct users and positive items, InfoNCE(a, b) = -mean_r log softmax_s(â_r·b̂_s / τ)[r] on
unit rows (:func:`ckgrec.model.nn.losses.info_nce`):

    SimGCL:   L = BPR(E) + λ · [InfoNCE(E'_u, E''_u) + InfoNCE(E'_i, E''_i)] over B_u, B_i
              (E noise-free; E', E'' two independent noisy passes)
    XSimGCL:  L = BPR(E') + λ · [InfoNCE(E', E'^{(l*)}) over B_u and B_i]
              (one noisy pass; its final vectors against its layer l* = ``cl_layer``)

plus the trainer's ``l2 · ½‖E^{(0)}_batch‖² / B`` on the batch's ego embeddings (as LightGCN
here; the reference code penalises the norms of the propagated vectors). Scoring uses the
noise-free E: s(u, i) = e_uᵀ e_i. Shapes: E^{(l)} (N, d); each InfoNCE is over |B_u| or
|B_i| rows.

Paper defaults: d = 64, L = 2, ε = 0.1, τ = 0.2, λ tuned per dataset; XSimGCL l* = 1; Adam,
lr 1e-3, batch 2048, L2 1e-4, Xavier-uniform embeddings (reference code, SELFRec). The defaults
here come from ``ckg tune`` (12 trials on each of embedded, ML-100K, ML-100K 20% and
tiktok-sample, benchmarks/results/default-vs-tuned.md): one configuration, L = 1, λ = 0.015,
τ = 0.1, ε = 0.1, lr 5e-3, L2 5e-3, was the best on validation on three of them and 0.8% below the
best on the fourth, where the paper's L = 2, λ = 0.05, τ = 0.2 stalled on ML-100K (valid
Recall@20 0.109 against 0.342). N(0, 0.1²) initialisation (as LightGCN here): Xavier's small
vectors leave BPR near log 2 on small data while the contrast spreads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ckgrec.model.core.search_space import Float, Int
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import Batch, ModelConfig, option
from ckgrec.model.models.lightgcn import LightGCN
from ckgrec.model.nn.graph_ops import bipartite_adjacency, propagate, to_torch_csr
from ckgrec.model.nn.losses import info_nce
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class SimGCLConfig(ModelConfig):
    embedding_dim: int = option(64, "dimension d of the layer-0 user and item embeddings", low=1)
    layers: int = option(1, "number L of propagation layers (XSimGCL needs 2 or more)", low=1)
    eps: float = option(
        0.1, "L2 norm ε of the uniform noise added to each row of each layer (contrastive views)", low=0.0
    )
    cl_weight: float = option(0.015, "weight λ of the InfoNCE loss between the two views", low=0.0)
    temperature: float = option(0.1, "InfoNCE temperature τ", low=0.0, low_open=True)
    xsimgcl: bool = option(
        False, "XSimGCL: one noisy pass, contrast layer cl_layer with the final vectors (BPR on the noisy pass)"
    )
    cl_layer: int = option(1, "XSimGCL: the layer l* (0 = ego embeddings) contrasted with the final vectors", low=0)
    init_std: float = option(
        0.1, "standard deviation of the normal initialisation of the embeddings", low=0.0, low_open=True
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.xsimgcl and self.layers == 1 and self.cl_layer == 1:
            raise ConfigError(
                "xsimgcl with layers = 1 and cl_layer = 1 contrasts the final vectors with themselves: set layers >= 2 "
                "or cl_layer = 0"
            )
        if self.xsimgcl and self.cl_layer > self.layers:
            raise ConfigError(
                f"cl_layer = {self.cl_layer}: XSimGCL contrasts one of the layers 0..layers = {self.layers}"
            )


def perturb(e: torch.Tensor, eps: float) -> torch.Tensor:
    """``e + ε · sign(e) ⊙ normalize_rows(U(0, 1))``: (N, d) -> (N, d); the noise of each row has norm ε.

    Draws from torch's global generator on ``e``'s device (checkpointed by the trainer, as dropout)."""
    return e + eps * torch.sign(e) * F.normalize(torch.rand_like(e), dim=-1)


class SimGCL(LightGCN):
    """LightGCN's graph, embedding table and initialisation; its own final layer mix, noise and loss."""

    name = "simgcl"
    description = "LightGCN + InfoNCE between views made by uniform noise on each layer (XSimGCL cross-layer option)"
    paper = "Yu et al., SIGIR 2022 (XSimGCL: Yu et al., TKDE 2023)"
    Config = SimGCLConfig
    search_space = {
        "lr": Float("train", 1e-4, 1e-2, log=True),
        "l2": Float("train", 1e-6, 1e-2, log=True),
        "layers": Int("model", 1, 4),
        "eps": Float("model", 0.01, 0.5, log=True),
        "cl_weight": Float("model", 0.005, 0.5, log=True),
        "temperature": Float("model", 0.05, 0.5, log=True),
    }
    train_defaults = {"lr": 5e-3, "batch_size": 2048, "l2": 5e-3}  # paper: lr 1e-3, L2 1e-4 (see the module doc)
    defaults_source = (
        "ckg tune, 12 trials on each of four datasets: best on validation on three, 0.8% below the best on the "
        "fourth (benchmarks/results/default-vs-tuned.md); the paper's L = 2, λ = 0.05, τ = 0.2 stalled on ML-100K"
    )
    is_baseline = True
    loss_splits_by_rows = False  # InfoNCE over the batch's distinct users and items

    def __init__(
        self,
        n_users: int,
        n_items: int,
        adjacency: torch.Tensor,
        embedding_dim: int,
        layers: int,
        eps: float,
        cl_weight: float,
        temperature: float,
        xsimgcl: bool = False,
        cl_layer: int = 1,
        init_std: float = 0.1,
    ):
        super().__init__(n_users, n_items, adjacency, embedding_dim, layers, init_std)
        self.eps = float(eps)
        self.cl_weight = float(cl_weight)
        self.temperature = float(temperature)
        self.xsimgcl = bool(xsimgcl)
        self.cl_layer = int(cl_layer)

    @classmethod
    def build(cls, data: TrainData, config: SimGCLConfig, device: torch.device) -> "SimGCL":
        adj = to_torch_csr(bipartite_adjacency(data.train), device)
        return cls(
            data.n_users,
            data.n_items,
            adj,
            config.embedding_dim,
            config.layers,
            config.eps,
            config.cl_weight,
            config.temperature,
            config.xsimgcl,
            config.cl_layer,
            config.init_std,
        ).to(device)

    # ---- the equations ------------------------------------------------------------------------
    def layer_outputs(self, noisy: bool) -> list[torch.Tensor]:
        """[E^{(0)}, E^{(1)}, ..., E^{(L)}], each (N, d); with noise added after each propagation when ``noisy``."""
        x = self.embedding.weight
        out = [x]
        for _ in range(self.layers):
            x = propagate(self.adjacency, x)
            if noisy:
                x = perturb(x, self.eps)
            out.append(x)
        return out

    @staticmethod
    def final(layers: list[torch.Tensor]) -> torch.Tensor:
        """E = 1/L Σ_{l=1..L} E^{(l)} (the ego layer 0 left out): (N, d)."""
        return torch.stack(layers[1:]).mean(0)

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Noise-free final embeddings: users (U, d), items (I, d)."""
        e = self.final(self.layer_outputs(noisy=False))
        return e[: self.n_users], e[self.n_users :]

    def contrast(self, view1: torch.Tensor, view2: torch.Tensor, batch: Batch) -> torch.Tensor:
        """InfoNCE over the batch's distinct users plus InfoNCE over its distinct positive items."""
        users = torch.unique(batch.users)
        items = torch.unique(batch.pos) + self.n_users
        return info_nce(view1[users], view2[users], self.temperature) + info_nce(
            view1[items], view2[items], self.temperature
        )

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.xsimgcl:
            layers = self.layer_outputs(noisy=True)
            e = self.final(layers)
            bpr = self.ranking_loss(e[: self.n_users], e[self.n_users :], batch)
            cl = self.contrast(e, layers[self.cl_layer], batch)
        else:
            bpr = self.ranking_loss(*self.propagate(), batch)
            cl = self.contrast(
                self.final(self.layer_outputs(noisy=True)), self.final(self.layer_outputs(noisy=True)), batch
            )
        return bpr + self.cl_weight * cl, {"bpr": bpr.detach(), "cl": cl.detach()}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, layers={self.layers}, eps={self.eps}, cl_weight={self.cl_weight}, "
            f"temperature={self.temperature}, xsimgcl={self.xsimgcl}"
        )
