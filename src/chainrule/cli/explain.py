"""``chainrule explain``: one sample's forward and backward pass, in the seed's notation."""

from __future__ import annotations

import argparse

from chainrule.cli.common import inner_model, load_model, model_argument, natural_int, positive_int

NAME = "explain"
HELP = "print one sample's forward and backward pass"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model_argument(
        parser, nargs="?", help="a model file or run directory (default: train the XOR demo)"
    )
    parser.add_argument("--sample", type=natural_int, default=0)
    parser.add_argument("--data", help="the data set (default: the one the model learned)")
    parser.add_argument("--target")
    parser.add_argument("--top", type=positive_int, default=3, help="largest dC/dW entries")
    parser.add_argument("--seed", type=int, default=0, help="seed of the XOR demo")


def _vector(v) -> str:
    import numpy as np

    return np.array2string(
        np.asarray(v),
        precision=4,
        threshold=12,
        edgeitems=4,
        max_line_width=96,
        suppress_small=True,
    )


def _network_and_data(args):
    """``(net, X, Y)``: the network and the (scaled) inputs and one-hot targets it explains."""
    from chainrule import datasets

    if args.model is None:
        from chainrule.training import train_xor

        net, _ = train_xor(args.seed)
        X, y = datasets.xor()
        print(
            "No model given: the seed's XOR network, trained now "
            "([2, 2, 1], sigmoid, cross-entropy, gradient descent)."
        )
        return net, X, y.reshape(-1, 1).astype(float)
    import numpy as np

    model, info = load_model(args.model)
    source = args.data or info.get("data")
    if source is None:
        raise ValueError("give --data: the model file does not say which data it learned")
    data = datasets.load(source, target=args.target or info.get("target"))
    inner = inner_model(model)
    X = model.transform(data.X) if inner is not model else data.X
    if hasattr(inner, "classes_"):
        unknown = np.setdiff1d(data.y, inner.classes_)
        if unknown.size:
            raise ValueError(f"the data holds labels the model never saw: {unknown[:5]}")
        # the one-hot rows the output layer learned: Y[i, k] = [y_i == classes_k]
        classes = np.asarray(inner.classes_)
        Y = (data.y[:, None] == classes[None, :]).astype(float)
        if len(classes) == 2 and inner.network_.layer_sizes[-1] == 1:
            Y = Y[:, 1:]  # a binary classifier has one output unit, for classes_[1]
    else:
        Y = data.y.reshape(len(data.y), -1)
    return inner.network_, X, Y


def run(args: argparse.Namespace) -> int:
    import numpy as np

    net, X, Y = _network_and_data(args)
    n = args.sample
    if n >= len(X):
        raise ValueError(f"--sample {n} is out of range: the data has {len(X)} samples (0..)")
    trace = net.backprop(X[n : n + 1], Y[n : n + 1])
    print(f"sample {n}: a^0 = {_vector(trace.a[0][0])}")
    print(f"target y = {_vector(Y[n])}")
    print("forward pass: z^m = W^m a^(m-1) + b^m,  a^m = sigma^m(z^m)")
    for m in range(1, net.L + 1):
        act = net.activations[m - 1]
        print(f"  layer {m} ({net.layer_sizes[m]} units, {act.name}):")
        print(f"    z^{m} = {_vector(trace.z[m - 1][0])}")
        print(f"    a^{m} = {_vector(trace.a[m][0])}")
    print(f"cost C = {net.cost_function.name}(a^{net.L}, y) = {trace.cost:.6g}")
    print("backward pass: delta^L = dC/dz^L,  delta^m = (W^(m+1)T delta^(m+1)) o sigma'(z^m),")
    print("               dC/dW^m = delta^m a^(m-1)T,  dC/db^m = delta^m")
    for m in range(net.L, 0, -1):
        dW = trace.dW[m - 1]
        print(f"  layer {m}:")
        print(f"    delta^{m} = {_vector(trace.delta[m - 1][0])}")
        top = np.argsort(np.abs(dW), axis=None)[::-1][: args.top]
        entries = ", ".join(
            f"[{i}, {j}] {dW[i, j]:+.4g}"
            for i, j in zip(*np.unravel_index(top, dW.shape), strict=True)
        )
        print(f"    largest |dC/dW^{m}| entries: {entries}")
        print(f"    dC/db^{m} = {_vector(trace.db[m - 1])}")
    return 0
