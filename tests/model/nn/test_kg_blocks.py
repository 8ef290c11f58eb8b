"""The KG attention building blocks against dense references and hand computations."""

from __future__ import annotations

import pytest
import torch

from ckgrec.model.nn.aggregation import (
    BiInteraction,
    aggregate,
    aggregate_differentiable,
    sparse_adjacency,
)
from ckgrec.model.nn.attention import attention_logits
from ckgrec.model.nn.dimension_importance import DimensionImportance
from ckgrec.model.nn.edge_softmax import edge_softmax
from ckgrec.model.nn.layer_fusion import LayerAttention

torch.set_num_threads(1)


def _random_graph(n=7, e=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    head = torch.randint(0, n, (e,), generator=g)
    tail = torch.randint(0, n, (e,), generator=g)
    keep = head != tail
    pairs = torch.unique(torch.stack([head[keep], tail[keep]], 1), dim=0)  # one edge per (h, t)
    return pairs[:, 0], pairs[:, 1], n


def test_edge_softmax_and_gradient_equal_dense_masked_softmax():
    head, tail, n = _random_graph()
    logits = torch.randn(len(head), dtype=torch.float64, requires_grad=True)
    sparse = edge_softmax(logits, head, n)
    dense_logits = torch.full((n, n), float("-inf"), dtype=torch.float64)
    dense_in = logits.clone().detach().requires_grad_(True)
    dense_logits = dense_logits.index_put((head, tail), dense_in)
    dense = torch.softmax(dense_logits, dim=1).nan_to_num(0.0)  # rows without edges -> 0
    assert torch.allclose(sparse, dense[head, tail])
    upstream = torch.randn(len(head), dtype=torch.float64)
    (sparse * upstream).sum().backward()
    (dense[head, tail] * upstream).sum().backward()
    assert torch.allclose(logits.grad, dense_in.grad)


def test_edge_softmax_is_stable_for_large_logits():
    index = torch.tensor([0, 0, 1])
    out = edge_softmax(torch.tensor([1000.0, 1000.0, -1000.0]), index, 2)
    assert torch.allclose(out, torch.tensor([0.5, 0.5, 1.0]))


def test_attention_logits_match_the_per_edge_formula():
    g = torch.Generator().manual_seed(1)
    n, d, k, r = 6, 4, 3, 2
    ent, rel, proj = torch.randn(n, d, generator=g), torch.randn(r, k, generator=g), torch.randn(r, d, k, generator=g)
    head = torch.tensor([0, 1, 2, 3, 4])
    tail = torch.tensor([1, 2, 3, 4, 5])
    rels = torch.tensor([0, 0, 1, 1, 1])  # sorted by relation
    got = attention_logits(ent, rel, proj, head, tail, [0, 2, 5])
    want = torch.stack(
        [(proj[q].T @ ent[t]) @ torch.tanh(proj[q].T @ ent[h] + rel[q]) for h, t, q in zip(head, tail, rels)]
    )
    assert torch.allclose(got, want, atol=1e-6)


def test_sparse_and_differentiable_aggregation_agree():
    head, tail, n = _random_graph(seed=3)
    states = torch.randn(n, 5)
    w = torch.rand(len(head))
    a = aggregate(states, sparse_adjacency(head, tail, w, n))
    b = aggregate_differentiable(states, head, tail, w)
    assert torch.allclose(a, b, atol=1e-6)


def test_one_propagation_layer_on_three_nodes_by_hand():
    # node 0 attends to nodes 1 and 2 with logits 0 and log 3 -> weights 1/4, 3/4
    ego = torch.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 0.0]])
    head, tail = torch.tensor([0, 0]), torch.tensor([1, 2])
    pi = edge_softmax(torch.tensor([0.0, torch.log(torch.tensor(3.0))]), head, 3)
    assert torch.allclose(pi, torch.tensor([0.25, 0.75]))
    neigh = aggregate(ego, sparse_adjacency(head, tail, pi, 3))
    assert torch.allclose(neigh[0], torch.tensor([3.0, 0.5]))  # 0.25*(0,2) + 0.75*(4,0)
    layer = BiInteraction(2, 2, dropout=0.0, negative_slope=0.2)
    with torch.no_grad():
        layer.w_sum.weight.copy_(torch.eye(2))
        layer.w_sum.bias.zero_()
        layer.w_prod.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
        layer.w_prod.bias.fill_(-1.0)
    out = layer(ego, neigh)
    # node 0: sum = (4, 0.5) -> leaky (4, 0.5); prod = (3, 0) -> W2 swaps -> (0, 3) - 1 = (-1, 2) -> leaky (-0.2, 2)
    raw = torch.tensor([4.0 - 0.2, 0.5 + 2.0])
    assert torch.allclose(out[0], raw / raw.norm())
    # node 1 has no neighbours: sum = (0, 2), prod = (0, 0) -> W2 -> (-1, -1) -> leaky (-0.2, -0.2)
    raw1 = torch.tensor([0.0 - 0.2, 2.0 - 0.2])
    assert torch.allclose(out[1], raw1 / raw1.norm())


def test_dimension_importance_equals_explicit_formula():
    torch.manual_seed(0)
    di = DimensionImportance(4)
    users, items = torch.randn(3, 4), torch.randn(5, 4)
    assert torch.allclose(di(users, items), users @ items.T)  # starts as the plain inner product
    with torch.no_grad():
        di.linear.weight.normal_()
        di.linear.bias.normal_()
    w = 2 * torch.sigmoid(users @ di.linear.weight.T + di.linear.bias)
    explicit = torch.stack([torch.stack([(w[u] * users[u] * items[i]).sum() for i in range(5)]) for u in range(3)])
    assert torch.allclose(di(users, items), explicit, atol=1e-6)
    assert torch.allclose(di.pair_scores(users, items[:3]), explicit.diagonal(), atol=1e-6)


def test_layer_attention_shapes_and_weights():
    torch.manual_seed(0)
    states = [torch.randn(5, 8), torch.randn(5, 4), torch.randn(5, 2)]
    la = LayerAttention([8, 4, 2], att_dim=6)
    alpha = la.weights(states)
    assert torch.allclose(alpha.sum(-1), torch.ones(5))
    out = la(states)
    assert out.shape == (5, 14)
    assert torch.allclose(out[:, 8:12], 3 * alpha[:, 1:2] * states[1])


def test_layer_attention_with_uniform_weights_is_plain_concat():
    la = LayerAttention([3, 3], att_dim=2)
    with torch.no_grad():
        la.query.zero_()
    states = [torch.randn(4, 3), torch.randn(4, 3)]
    assert torch.allclose(la(states), torch.cat(states, -1))


def test_mean_fusion_is_lightgcns_layer_average_and_pairs_layers_across_in_the_score(store):
    """fusion='mean' gives (1/(L+1)) sum_l e^(l) of the very states plain concat lays side by side;
    its inner product is the average over every (layer l, layer m) pair, not only l = m."""
    from ckgrec.model.data.graph_tensors import GraphTensors
    from ckgrec.model.nn.graph_encoder import GraphEncoder

    g = GraphTensors.from_store(store, "user_side")
    encoders = {}
    for fusion in ("concat", "mean"):
        torch.manual_seed(0)
        encoders[fusion] = GraphEncoder(
            g,
            dim=8,
            relation_dim=8,
            layer_dims=(8, 8),
            dropout=0.0,
            fusion=fusion,
            aggregator="linear",
            normalize=False,
        ).double()
    concat, mean = encoders["concat"](), encoders["mean"]()
    assert encoders["mean"].out_dim == 8 and mean.shape == (g.num_entities, 8)
    layers = concat.reshape(len(concat), 3, 8)
    assert torch.allclose(mean, layers.mean(1))
    u, i = layers[0], layers[1]
    assert torch.allclose(mean[0] @ mean[1], sum(u[l] @ i[m] for l in range(3) for m in range(3)) / 9)
    with pytest.raises(ValueError, match="embedding size 8"):
        GraphEncoder(g, dim=8, relation_dim=8, layer_dims=(8, 4), fusion="mean")


def test_mean_fusion_config_needs_layers_of_the_embedding_size():
    from ckgrec.model.models.dualkgat import DualKGATConfig
    from ckgrec.schemas.errors import ConfigError

    DualKGATConfig(fusion="mean", aggregator="linear", layer_dims=(64, 32))  # linear layers keep the embedding size
    DualKGATConfig(fusion="mean", aggregator="bi", layer_dims=(64, 64))
    with pytest.raises(ConfigError, match="layer_dims"):
        DualKGATConfig(fusion="mean", aggregator="bi", layer_dims=(64, 32, 16))  # bi-interaction layers shrink


def test_neighbour_sampling_caps_each_head_and_prefers_confident_edges():
    from ckgrec.model.nn.neighbour_sampling import sample_neighbours

    head = torch.tensor([0] * 10 + [1] * 2)
    conf = torch.tensor([1.0] * 2 + [0.01] * 8 + [0.5] * 2)
    g = torch.Generator().manual_seed(0)
    kept_first_two = 0
    for _ in range(200):
        keep = sample_neighbours(head, conf, 2, g)
        assert keep[:10].sum() == 2 and keep[10:].all()  # capped at 2; small heads keep all
        kept_first_two += int(keep[:2].sum())
    assert kept_first_two > 0.9 * 400  # the two confident edges win almost always


def test_best_paths_follow_attention():
    import numpy as np

    from ckgrec.model.inference.explain import best_paths

    # user 0 -> items 1, 2 ; 1 -> concept 3 ; 2 -> concept 4 ; 3 and 4 -> target item 5
    head = np.array([0, 0, 1, 2, 3, 4])
    rel = np.array([0, 0, 1, 1, 2, 2])
    tail = np.array([1, 2, 3, 4, 5, 5])
    w = np.array([0.9, 0.1, 1.0, 1.0, 0.5, 0.5])
    labels = np.array(["user:a", "item:x", "item:y", "visual:c1", "visual:c2", "item:z"], dtype=object)
    paths = best_paths(
        "user_side", head, rel, tail, w, labels, ["like", "has_visual_concept", "has_visual_concept_inverse"], 0, 5
    )
    assert [p.score for p in paths] == pytest.approx([0.45, 0.05])
    assert paths[0].text() == "user:a —like→ item:x —has_visual_concept→ visual:c1 ←has_visual_concept— item:z"


@pytest.mark.parametrize("attention_grad", [False, True])
def test_users_items_only_forward_equals_the_full_forward_cut_to_those_rows(store, attention_grad):
    """The last layer computed for users and items only gives exactly the rows of the full
    propagation, and its gradients flow to the same parameters."""
    from ckgrec.model.data.graph_tensors import GraphTensors
    from ckgrec.model.nn.graph_encoder import GraphEncoder

    torch.manual_seed(0)
    enc = GraphEncoder(
        GraphTensors.from_store(store, "user_side"),
        dim=8,
        relation_dim=8,
        layer_dims=(8, 6, 4),
        dropout=0.0,
        attention_grad=attention_grad,
    ).double()
    full = enc()[enc.output_rows]
    cut = enc(users_items_only=True)
    assert torch.allclose(full, cut, atol=1e-12)
    g_full = torch.autograd.grad(full.square().sum(), enc.entity.weight)[0]
    g_cut = torch.autograd.grad(cut.square().sum(), enc.entity.weight)[0]
    assert torch.allclose(g_full, g_cut, atol=1e-10)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("all_nodes", [False, True])
@pytest.mark.parametrize("fusion", ["concat", "attention_concat"])
def test_selected_rows_equal_the_full_forward_picked(store, fusion, all_nodes, normalize):
    """A batch's rows (users and items repeated, in any order) are the full forward's rows, with
    the full forward's gradients: the encoder normalises only the rows it is asked for, each
    distinct row once. ``all_nodes`` takes the path of a graph of users and items only."""
    from ckgrec.model.data.graph_tensors import GraphTensors
    from ckgrec.model.nn.graph_encoder import GraphEncoder

    torch.manual_seed(0)
    enc = GraphEncoder(
        GraphTensors.from_store(store, "user_side"),
        dim=8,
        relation_dim=8,
        layer_dims=(8, 6, 4),
        dropout=0.0,
        fusion=fusion,
        normalize=normalize,
    ).double()
    if not all_nodes:  # the embedded store numbers users and items first: reversed, the rows are not positions
        enc.output_rows = enc.output_rows.flip(0)
    outputs = torch.arange(enc.graph.num_entities) if all_nodes else enc.output_rows
    enc._outputs_are_all_nodes = all_nodes
    select = torch.randint(0, len(outputs), (300,), generator=torch.Generator().manual_seed(1))
    assert len(select.unique()) < len(select)  # repeats, as a batch has
    weight = torch.randn(300, enc.out_dim, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    full = enc()[outputs][select]
    picked = enc(users_items_only=True, select=select)
    assert torch.allclose(full, picked, atol=1e-12)
    params = [enc.entity.weight, *enc.layers.parameters()]
    g_full = torch.autograd.grad((full * weight).sum(), params)
    g_picked = torch.autograd.grad((picked * weight).sum(), params)
    for a, b in zip(g_full, g_picked):
        assert torch.allclose(a, b, atol=1e-10)


def _edge_weight_encoder(store, mode):
    from ckgrec.model.data.graph_tensors import GraphTensors
    from ckgrec.model.nn.graph_encoder import GraphEncoder

    torch.manual_seed(0)
    return GraphEncoder(
        GraphTensors.from_store(store, "user_side"),
        dim=8,
        relation_dim=8,
        layer_dims=(8,),
        dropout=0.0,
        edge_weights=mode,
    ).double()


def test_symmetric_edge_weights_are_one_over_root_degrees(store):
    """LightGCN's weights, checked edge by edge against degrees counted in plain Python."""
    from collections import Counter

    enc = _edge_weight_encoder(store, "symmetric")
    g = enc.graph
    degree = Counter(g.head.tolist())
    expected = torch.tensor(
        [1.0 / (degree[h] * degree[t]) ** 0.5 for h, t in zip(g.head.tolist(), g.tail.tolist())], dtype=torch.float64
    )
    assert torch.allclose(enc._attention_weights().double(), expected)
    # with a neighbour sample: rows by the messages a head keeps, columns by the heads a tail still reaches
    enc.max_neighbours = 2
    enc.resample_neighbours(torch.Generator().manual_seed(0))
    head, tail, _ = enc._edges()
    assert len(head) < g.num_edges
    rows, cols = Counter(head.tolist()), Counter(tail.tolist())
    expected = torch.tensor(
        [1.0 / (rows[h] * cols[t]) ** 0.5 for h, t in zip(head.tolist(), tail.tolist())], dtype=torch.float64
    )
    assert torch.allclose(enc._attention_weights().double(), expected)


def test_attention_degree_shares_lightgcn_mass_by_the_softmax_with_a_degree_prior(store):
    """Per head: softmax over its edges of (TransR logit - 1/2 log d_tail), times the head's
    LightGCN mass sum_t 1/sqrt(d_h d_t), computed one head at a time in a loop; with equal logits
    the weights are LightGCN's exactly."""
    from ckgrec.model.nn import graph_encoder

    enc = _edge_weight_encoder(store, "attention_degree")
    g = enc.graph
    with torch.no_grad():
        logits = attention_logits(enc.entity.weight, enc.relation.weight, enc.projection, g.head, g.tail, g.offsets)
        got = enc._attention_weights()
    degree = torch.bincount(g.head, minlength=g.num_entities).double()
    for h in g.head.unique()[:25].tolist():
        edges = (g.head == h).nonzero().squeeze(1)
        mass = (1.0 / (degree[h] * degree[g.tail[edges]]).sqrt()).sum()
        want = torch.softmax(logits[edges] - 0.5 * degree[g.tail[edges]].log(), 0) * mass
        assert torch.allclose(got[edges], want)
    # and the attention still decides: other weights, other edge weights
    with torch.no_grad():
        enc.entity.weight.mul_(3.0)
    assert not torch.allclose(enc._attention_weights(), got)
    # equal logits: LightGCN's weights
    original = graph_encoder.attention_logits
    try:
        graph_encoder.attention_logits = lambda entity, *rest: torch.zeros(g.num_edges, dtype=entity.dtype)
        uniform = enc._attention_weights()
    finally:
        graph_encoder.attention_logits = original
    assert torch.allclose(uniform, _edge_weight_encoder(store, "symmetric")._attention_weights())


def test_a_graph_of_users_and_items_only_skips_the_cut_without_changing_a_value():
    """When users and items are every node, numbered users first, forward(users_items_only=True)
    skips cutting rows; outputs equal the cut path's exactly, gradients up to the order in which
    autograd adds their terms."""
    import numpy as np

    from ckgrec.model.data.graph_tensors import GraphTensors
    from ckgrec.model.nn.graph_encoder import GraphEncoder

    h = torch.tensor([0, 0, 1, 1])  # users 0, 1 -> items 2, 3, 4
    t = torch.tensor([2, 3, 3, 4])
    head, tail = torch.cat([h, t]), torch.cat([t, h])
    relation = torch.tensor([0] * 4 + [1] * 4)
    g = GraphTensors(
        graph="user_side",
        num_entities=5,
        num_relations=2,
        head=head,
        relation=relation,
        tail=tail,
        confidence=torch.ones(8),
        offsets=[0, 4, 8],
        triples=torch.stack([h, torch.zeros(4, dtype=torch.long), t], 1),
        user_entity=torch.tensor([0, 1]),
        item_entity=torch.tensor([2, 3, 4]),
        labels=np.array(["u0", "u1", "i0", "i1", "i2"], dtype=object),
        kinds=np.array(["user"] * 2 + ["item"] * 3, dtype=object),
        relation_names=["like", "like_inverse"],
    )
    torch.manual_seed(0)
    enc = GraphEncoder(g, dim=4, relation_dim=4, layer_dims=(4, 3), dropout=0.0).double()
    assert enc._outputs_are_all_nodes
    fast = enc(users_items_only=True)
    grad_fast = torch.autograd.grad(fast.square().sum(), enc.entity.weight)[0]
    enc._outputs_are_all_nodes = False
    enc.refresh_attention()
    cut = enc(users_items_only=True)
    grad_cut = torch.autograd.grad(cut.square().sum(), enc.entity.weight)[0]
    assert torch.equal(fast, cut)
    assert torch.allclose(grad_fast, grad_cut, rtol=0, atol=1e-13)


def test_stored_side_edges_keep_interactions_both_ways_and_side_triples_as_stored(store):
    """side_edges='stored' (RecBole's KGAT graph): every user-item edge in both directions, every
    other triple only head <- tail; an entity that is only ever a tail hears nothing, so its
    aggregated neighbourhood is zero, while under 'both' it hears its heads."""
    from ckgrec.model.data.graph_tensors import GraphTensors
    from ckgrec.model.nn.aggregation import aggregate
    from ckgrec.model.nn.graph_encoder import GraphEncoder

    g = GraphTensors.from_store(store, "user_side")
    tr = g.triples
    # stored marks one direction of each triple: the stored edges are exactly the triples
    stored = set(zip(g.head[g.stored].tolist(), g.relation[g.stored].tolist(), g.tail[g.stored].tolist()))
    assert stored == set(map(tuple, tr.tolist())) and int(g.stored.sum()) * 2 == g.num_edges
    torch.manual_seed(0)
    enc = GraphEncoder(g, dim=8, relation_dim=8, layer_dims=(8,), dropout=0.0, side_edges="stored").double()
    head, tail, _ = enc._edges()
    inter = g.interaction_edges()
    expected = {
        (h, t) for h, t, s, i in zip(g.head.tolist(), g.tail.tolist(), g.stored.tolist(), inter.tolist()) if s or i
    }
    assert set(zip(head.tolist(), tail.tolist())) == expected
    assert int(inter.sum()) > 0 and (inter & ~g.stored).any()  # inverse interaction edges are kept
    only_tails = sorted(
        set(tr[:, 2].tolist()) - set(tr[:, 0].tolist()) - set(g.user_entity.tolist()) - set(g.item_entity.tolist())
    )
    assert only_tails  # attributes / concepts of the tiny world
    enc.refresh_attention()
    heard = aggregate(enc.entity.weight, enc._adjacency)
    assert torch.all(heard[only_tails] == 0)
    items_heard = heard[g.item_entity]
    both = GraphEncoder(g, dim=8, relation_dim=8, layer_dims=(8,), dropout=0.0).double()
    both.load_state_dict(enc.state_dict())
    both.refresh_attention()
    assert torch.all(aggregate(both.entity.weight, both._adjacency)[only_tails].abs().sum(-1) > 0)
    assert items_heard.abs().sum() > 0


def test_encoder_transr_loss_and_l2_equal_the_per_triple_formulas(store):
    """The encoder's TransR batch loss (one shared lookup for both terms) equals the gathered
    formula of model.transr, and its L2 term the batch's squared norms over twice its size."""
    from ckgrec.model.data.graph_tensors import GraphTensors
    from ckgrec.model.nn.graph_encoder import GraphEncoder
    from ckgrec.model.nn.transr import transr_kg_loss

    torch.manual_seed(0)
    enc = GraphEncoder(
        GraphTensors.from_store(store, "user_side"), dim=8, relation_dim=6, layer_dims=(8,), dropout=0.0
    ).double()
    gen = torch.Generator().manual_seed(1)
    triples = enc.graph.triples[torch.randint(0, len(enc.graph.triples), (64,), generator=gen)]
    neg = torch.randint(0, enc.graph.num_entities, (64,), generator=gen)
    loss, l2 = enc.kg_loss_terms(triples, neg)
    h, r, t = triples.T
    e, rel = enc.entity.weight, enc.relation.weight
    expected = transr_kg_loss(e[h], rel[r], e[t], e[neg], enc.projection[r])
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-12)
    squares = e[h].pow(2).sum() + e[t].pow(2).sum() + e[neg].pow(2).sum() + rel[r].pow(2).sum()
    torch.testing.assert_close(l2, squares / (2 * 64), rtol=1e-12, atol=1e-12)
