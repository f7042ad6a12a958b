"""The same networks in PyTorch autograd, on identical weights and inputs, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HIDDEN, OUTPUTS_FOR_COST, smooth_problem

torch = pytest.importorskip("torch")
F = torch.nn.functional

import chainrule as cr  # noqa: E402

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "elu": F.elu,
    "softplus": F.softplus,
    "identity": lambda z: z,
    "exponential": torch.exp,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_cost(name, a, y):
    """Per-sample costs, written independently of chainrule."""
    if name == "squared_error":
        return 0.5 * ((y - a) ** 2).sum(1)
    if name == "binary_cross_entropy":
        return F.binary_cross_entropy(a, y, reduction="none").sum(1)
    if name == "categorical_cross_entropy":
        return -(y * torch.log(a)).sum(1)
    if name == "absolute_error":
        return (a - y).abs().sum(1)
    if name == "huber":
        return F.huber_loss(a, y, reduction="none", delta=1.0).sum(1)
    if name == "poisson":
        # the half deviance: torch's a - y log a plus the terms free of a, y log y - y
        nll = F.poisson_nll_loss(a, y, log_input=False, full=False, reduction="none", eps=0)
        return (nll + torch.xlogy(y, y) - y).sum(1)
    raise KeyError(name)


def torch_reference(net, X, Y, sample_weight=None):
    Ws = [torch.tensor(W, requires_grad=True) for W in net.W]
    bs = [torch.tensor(b, requires_grad=True) for b in net.b]
    a = torch.tensor(X)
    for W, b, act in zip(Ws, bs, net.activations, strict=True):
        a = TORCH_ACTIVATIONS[act.name](a @ W.T + b)
    per_sample = torch_cost(net.cost_function.name, a, torch.tensor(Y))
    if sample_weight is None:
        C = per_sample.mean()
        n = X.shape[0]
    else:
        w = torch.tensor(sample_weight)
        C = (w * per_sample).sum() / w.sum()
        n = float(np.sum(sample_weight))
    C = C + 0.5 * net.alpha / n * sum((W**2).sum() for W in Ws)
    C.backward()
    return a.detach().numpy(), C.item(), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


def assert_matches_torch(net, X, Y, sample_weight=None):
    a_t, C_t, dW_t, db_t = torch_reference(net, X, Y, sample_weight)
    np.testing.assert_allclose(net.forward(X), a_t, rtol=1e-10, atol=1e-12)
    assert net.cost(X, Y, sample_weight) == pytest.approx(C_t, rel=1e-10)
    dW, db = net.gradients(X, Y, sample_weight)
    for ours, theirs in zip(dW + db, dW_t + db_t, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


COST_OUTPUT = [(c, o) for c, outs in OUTPUTS_FOR_COST.items() for o in outs]


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("cost,output", COST_OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_matches_pytorch_autograd(hidden, cost, output, depth):
    sizes = [3] + [4] * (depth - 1) + [2]
    net, X, Y = smooth_problem(sizes, hidden, output, cost, seed=depth)
    assert_matches_torch(net, X, Y)


@pytest.mark.parametrize("cost,output", COST_OUTPUT)
def test_matches_pytorch_with_penalty_and_sample_weights(cost, output):
    net, X, Y = smooth_problem([3, 5, 4, 2], ["tanh", "softplus"], output, cost, alpha=0.2, seed=9)
    w = np.random.default_rng(1).uniform(0.1, 2.0, size=X.shape[0])
    assert_matches_torch(net, X, Y, w)


def test_sigmoid_slope_matches_pytorch(rng):
    net = cr.Network([3, 4, 1], activation=cr.Sigmoid(beta=3.0), random_state=0)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    W1, b1 = (torch.tensor(p, requires_grad=True) for p in (net.W[0], net.b[0]))
    W2, b2 = (torch.tensor(p, requires_grad=True) for p in (net.W[1], net.b[1]))
    a = torch.sigmoid(3.0 * (torch.tensor(X) @ W1.T + b1)) @ W2.T + b2
    C = (0.5 * ((a - torch.tensor(Y)) ** 2).sum(1)).mean()
    C.backward()
    dW, _ = net.gradients(X, Y)
    np.testing.assert_allclose(dW[0], W1.grad.numpy(), rtol=1e-10)
    assert net.cost(X, Y) == pytest.approx(C.item(), rel=1e-12)


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid"])
def test_dropout_gradient_with_a_given_mask_matches_pytorch_autograd(hidden):
    """dropout's a^m = sigma(z^m) o r^m / (1 - p) and its delta^m, through PyTorch's autograd
    with the same masks (float64)."""
    rng = np.random.default_rng(3)
    net = cr.Network([4, 6, 5, 3], activation=hidden, output_activation="softmax",
                     cost="categorical_cross_entropy", alpha=0.1, random_state=0)  # fmt: skip
    X, Y = rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)]
    masks = [(rng.random((8, n)) >= p) / (1 - p) for n, p in ((6, 0.3), (5, 0.5))]
    Ws = [torch.tensor(W, requires_grad=True) for W in net.W]
    bs = [torch.tensor(b, requires_grad=True) for b in net.b]
    a = torch.tensor(X)
    for m, (W, b, act) in enumerate(zip(Ws, bs, net.activations, strict=True)):
        a = TORCH_ACTIVATIONS[act.name](a @ W.T + b)
        if m < 2:
            a = a * torch.tensor(masks[m])  # the mask PyTorch's dropout would apply
    C = torch_cost("categorical_cross_entropy", a, torch.tensor(Y)).mean()
    C = C + 0.5 * net.alpha / 8 * sum((W**2).sum() for W in Ws)
    C.backward()
    w = np.full(8, 1 / 8)
    cost, grad = net.batch_cost_and_gradient(X, Y, w, 8.0, masks=masks)
    ours = net.unflatten(grad)
    # both sum the same products in other orders: each entry is a sum over the 8 rows of
    # products through three layers of at most 6 units, each rounding within eps
    bound = 2 * 3 * (8 + 6) * np.finfo(np.float64).eps
    assert cost == pytest.approx(C.item(), rel=bound)
    for got, theirs in zip(ours[0] + ours[1], [W.grad for W in Ws] + [b.grad for b in bs],
                           strict=True):  # fmt: skip
        np.testing.assert_allclose(got, theirs.numpy(), rtol=0, atol=bound * np.abs(got).max())
    plain = net.batch_cost_and_gradient(X, Y, w, 8.0)[1]
    assert not np.allclose(plain, grad)  # the masks changed the gradient
