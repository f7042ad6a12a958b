"""Decoupled weight decay and the L1 subgradient against PyTorch, from the same weights, in
float64: ``torch.optim.AdamW`` (the weights in a group with ``weight_decay``, the biases in one
without, as chainrule decays the weights only) and autograd of the L1 term (``abs``'s gradient
is ``sign``, 0 at 0)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402

#: chainrule's Adam adds epsilon to sqrt(v) (scikit-learn's form), PyTorch's to
#: sqrt(v / (1 - b2^t)); with epsilon 1e-14 the two steps differ by at most
#: eta eps / sqrt(v) relative, ~1e-15 here (|g| ~ 0.01 or more), far inside 1e-10
EPSILON = 1e-14


def torch_cost(Ws, bs, X, Y, alpha, l1_ratio):
    """The mean squared error of a tanh network plus the penalty, written with torch."""
    a = X
    for m, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        z = a @ W.T + b
        a = torch.tanh(z) if m < len(Ws) - 1 else z
    n = X.shape[0]
    C = (0.5 * ((a - Y) ** 2).sum(1)).mean()
    l1 = sum(W.abs().sum() for W in Ws)
    l2 = sum((W**2).sum() for W in Ws)
    return C + alpha / n * (l1_ratio * l1 + (1 - l1_ratio) / 2 * l2)


def setup(rng, alpha=0.0, l1_ratio=0.0):
    net = cr.Network([4, 6, 2], activation="tanh", alpha=alpha, l1_ratio=l1_ratio, random_state=0)
    net.W[0][:2, :2] = 0.0  # exact zeros: the subgradient there is 0 on both sides
    X, Y = rng.normal(size=(16, 4)), rng.normal(size=(16, 2))
    Ws = [torch.tensor(W.copy(), requires_grad=True) for W in net.W]
    bs = [torch.tensor(b.copy(), requires_grad=True) for b in net.b]
    return net, X, Y, Ws, bs


@pytest.mark.parametrize("l1_ratio", [0.3, 1.0])
def test_the_l1_subgradient_is_pytorchs(rng, l1_ratio):
    net, X, Y, Ws, bs = setup(rng, alpha=0.7, l1_ratio=l1_ratio)
    C = torch_cost(Ws, bs, torch.tensor(X), torch.tensor(Y), 0.7, l1_ratio)
    C.backward()
    assert net.cost(X, Y) == pytest.approx(C.item(), rel=1e-12)
    dW, db = net.gradients(X, Y)
    for ours, theirs in zip(dW + db, [p.grad.numpy() for p in Ws + bs], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    # at W = 0 the penalty adds nothing (not +-alpha l1_ratio / n = 0.013 or more): the data
    # term alone, as a network without the penalty has it
    plain = cr.Network([4, 6, 2], activation="tanh")
    plain.theta[...] = net.theta
    np.testing.assert_allclose(dW[0][:2, :2], plain.gradients(X, Y)[0][0][:2, :2], rtol=1e-12)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_adamw_takes_pytorchs_steps(rng, engine):
    """Ten steps on the same minibatch costs (with an L1 and L2 penalty in the gradient too),
    chainrule's Adam with weight_decay against torch.optim.AdamW."""
    eta, lam, alpha, l1_ratio = 0.01, 0.3, 0.2, 0.4
    net, X, Y, Ws, bs = setup(rng, alpha=alpha, l1_ratio=l1_ratio)
    groups = [{"params": Ws, "weight_decay": lam}, {"params": bs, "weight_decay": 0.0}]
    adamw = torch.optim.AdamW(groups, lr=eta, betas=(0.9, 0.999), eps=EPSILON)
    ours = cr.Adam(eta, epsilon=EPSILON, weight_decay=lam)
    ours.decayed = cr.optimizers.weight_slices(net.layer_sizes)
    X_t, Y_t = torch.tensor(X), torch.tensor(Y)
    step = ours.step
    if engine == "compiled":
        from chainrule.engine import compiled

        step = compiled.fused_step(ours, net.theta)
    for _ in range(10):
        adamw.zero_grad()
        torch_cost(Ws, bs, X_t, Y_t, alpha, l1_ratio).backward()
        adamw.step()
        _, grad = net.cost_and_gradient(X, Y)
        step(net.theta, grad)
    for got, theirs in zip([*net.W, *net.b], Ws + bs, strict=True):
        np.testing.assert_allclose(got, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
