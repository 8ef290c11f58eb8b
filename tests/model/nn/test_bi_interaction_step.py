"""The bi-interaction layer's written-out forward and backward, and its dropout mask, against
autograd of the formula and against the probabilities they promise."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ckgrec.model.nn.aggregation import (
    BiInteraction,
    LinearAggregator,
    keep_mask,
    message_dropout,
)

torch.set_num_threads(1)


def _formula(layer: BiInteraction, ego, neighbours, keep=None, scale=1.0):
    """KGAT's Equation (8) composed from autograd's operators, times a given dropout mask."""
    out = F.leaky_relu(layer.w_sum(ego + neighbours), layer.negative_slope) + F.leaky_relu(
        layer.w_prod(ego * neighbours), layer.negative_slope
    )
    return out if keep is None else out * keep * scale


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_layer_values_and_gradients_equal_autograd_of_the_formula(dropout):
    torch.manual_seed(0)
    layer = BiInteraction(6, 4, dropout=dropout, normalize=False).double()
    with torch.no_grad():  # non-zero biases, so a bias gradient error would show
        layer.w_sum.bias.uniform_(-0.5, 0.5)
        layer.w_prod.bias.uniform_(-0.5, 0.5)
    ego = torch.randn(40, 6, dtype=torch.float64, requires_grad=True)
    neighbours = torch.randn(40, 6, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(40, 4, dtype=torch.float64)
    torch.manual_seed(7)
    written_out = layer(ego, neighbours)
    torch.manual_seed(7)  # the same draw gives the same mask
    keep, scale = keep_mask((40, 4), dropout, ego.device)
    composed = _formula(layer, ego, neighbours, keep if dropout else None, scale)
    if dropout:
        assert (written_out == 0).sum() == (~keep).sum() > 0
    torch.testing.assert_close(written_out, composed, rtol=0, atol=1e-12)
    params = [ego, neighbours, *layer.parameters()]
    for a, b in zip(
        torch.autograd.grad((written_out * upstream).sum(), params),
        torch.autograd.grad((composed * upstream).sum(), params),
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_layer_passes_gradcheck():
    torch.manual_seed(1)
    layer = BiInteraction(3, 2, dropout=0.25, normalize=True).double()

    def seeded(ego, neighbours):  # one mask for every evaluation gradcheck makes
        torch.manual_seed(3)
        return layer(ego, neighbours)

    ego = torch.randn(9, 3, dtype=torch.float64, requires_grad=True)
    neighbours = torch.randn(9, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(seeded, (ego, neighbours))


def test_evaluation_mode_and_no_grad_skip_the_mask():
    torch.manual_seed(0)
    layer = BiInteraction(5, 5, dropout=0.5, normalize=False).eval()
    ego, neighbours = torch.randn(8, 5), torch.randn(8, 5)
    with torch.no_grad():
        torch.testing.assert_close(layer(ego, neighbours), _formula(layer, ego, neighbours))
    x = torch.randn(10, 3)
    assert message_dropout(x, 0.5, training=False) is x
    assert LinearAggregator(3, dropout=0.5).eval()(x, x) is x


def test_negative_slope_below_zero_is_refused():
    with pytest.raises(ValueError, match="negative_slope"):
        BiInteraction(2, 2, negative_slope=-0.1)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_keep_mask_keeps_one_minus_p_and_scale_restores_the_mean(p):
    torch.manual_seed(0)
    shape = (1001, 999)  # an element count that is not a multiple of four
    keep, scale = keep_mask(shape, p, torch.device("cpu"))
    assert keep.shape == shape and keep.dtype == torch.bool
    n = keep.numel()
    kept = keep.sum().item() / n
    p_rounded = round(p * 65536) / 65536
    assert abs(kept - (1 - p_rounded)) < 5 * ((p_rounded * (1 - p_rounded) / n) ** 0.5)
    assert scale * (1 - p_rounded) == pytest.approx(1.0, abs=1e-12)
    # each 16-bit field is independent of the others taken from the same 64-bit draw
    flat = keep.flatten()[: n // 4 * 4].view(-1, 4).float()
    for j in range(1, 4):
        assert abs(torch.corrcoef(torch.stack([flat[:, 0], flat[:, j]]))[0, 1].item()) < 0.01
    # the mean of a dropped-out constant stays the constant
    x = torch.ones(shape)
    assert message_dropout(x, p, training=True).mean().item() == pytest.approx(1.0, abs=5e-3)


def test_keep_mask_follows_the_seed():
    torch.manual_seed(4)
    a, _ = keep_mask((300, 7), 0.2, torch.device("cpu"))
    torch.manual_seed(4)
    b, _ = keep_mask((300, 7), 0.2, torch.device("cpu"))
    c, _ = keep_mask((300, 7), 0.2, torch.device("cpu"))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert keep_mask((50,), 0.0, torch.device("cpu"))[0].all()
    with pytest.raises(ValueError, match="dropout probability"):
        keep_mask((50,), 0.999999, torch.device("cpu"))


@pytest.mark.gpu
def test_layer_and_mask_agree_between_cpu_and_cuda():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    torch.manual_seed(0)
    layer = BiInteraction(16, 8, dropout=0.0, normalize=False)
    on_gpu = BiInteraction(16, 8, dropout=0.0, normalize=False).cuda()
    on_gpu.load_state_dict(layer.state_dict())
    ego, neighbours, upstream = torch.randn(500, 16), torch.randn(500, 16), torch.randn(500, 8)
    results = []
    for module, device in ((layer, "cpu"), (on_gpu, "cuda")):
        e = ego.to(device).requires_grad_()
        n = neighbours.to(device).requires_grad_()
        out = module(e, n)
        grads = torch.autograd.grad((out * upstream.to(device)).sum(), [e, n, *module.parameters()])
        results.append([t.cpu() for t in (out, *grads)])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    keep, scale = keep_mask((1000, 1000), 0.1, torch.device("cuda"))
    assert keep.device.type == "cuda" and abs(keep.float().mean().item() - 0.9) < 2e-3
