"""The ``chainrule`` command: train, evaluate, predict, explain, plot, demo and calc.

Exit status 0 on success, 2 on bad usage (argparse), 1 on failure; errors go to stderr in one
sentence, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from chainrule import datasets
from chainrule.persistence import ModelFormatError, load

DEFAULT_OUT = "chainrule-out"


# -- progress ------------------------------------------------------------------------------


class EpochProgress:
    """A scikit-learn callback (``sklearn.callback`` protocol): one live progress bar over the
    epochs, showing the training loss, the validation loss and the elapsed time."""

    def __init__(self, max_epochs: int) -> None:
        self.max_epochs = max_epochs
        self._progress = None

    def setup(self, estimator, context):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("epoch {task.completed:>4}/{task.total}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]}  validation loss {task.fields[val]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("fit", total=self.max_epochs, loss="-", val="-")
        self._progress.start()

    def teardown(self, estimator, context):
        if self._progress is not None:
            self._progress.stop()

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name != "epoch" or not getattr(estimator, "loss_curve_", None):
            return
        val = getattr(estimator, "validation_loss_curve_", None)
        self._progress.update(
            self._task,
            completed=estimator.n_iter_,
            loss=f"{estimator.loss_curve_[-1]:.4f}",
            val=f"{val[-1]:.4f}" if val else "-",
        )


# -- commands ------------------------------------------------------------------------------


def cmd_train(args) -> int:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split

    from chainrule.estimators import MLPClassifier, MLPRegressor, Standardized
    from chainrule.plotting import plot_loss, save_figure

    data = datasets.load(args.data, target=args.target)
    classify = data.task == "classification"
    stratify = data.y if classify and np.unique(data.y, return_counts=True)[1].min() >= 2 else None
    X_tr, X_te, y_tr, y_te = train_test_split(
        data.X, data.y, test_size=args.test_size, random_state=args.seed, stratify=stratify
    )
    params = dict(
        hidden_layer_sizes=args.hidden,
        activation=args.activation,
        solver=args.solver,
        max_iter=args.epochs,
        learning_rate_init=args.learning_rate,
        momentum=args.momentum,
        random_state=args.seed,
        early_stopping=args.early_stopping and len(y_tr) >= 20,
        scoring="loss",  # the validation loss is smooth where a small set's accuracy jumps
    )
    if args.batch_size:
        params["batch_size"] = args.batch_size
    if args.resume:
        params.update(checkpoint=args.resume, resume=True)
    model = (MLPClassifier if classify else MLPRegressor)(**params)
    if not args.quiet and args.solver != "lbfgs":
        model.set_callbacks(EpochProgress(args.epochs))
    info = {
        "data": args.data,
        "task": data.task,
        "features": data.feature_names,
        "target": data.target_name,
    }
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        bundle = Standardized.fit(model, X_tr, y_tr, info=info)
    seconds = time.perf_counter() - started
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"chainrule train: warning: {message}", file=sys.stderr)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_path, plot_path = out / "model.crm", out / "loss.png"
    bundle.save(model_path)
    save_figure(plot_loss(model), plot_path)

    print(
        f"chainrule train: {data.name}, {len(data.y)} samples, {data.X.shape[1]} features, "
        f"net {[data.X.shape[1], *args.hidden]} -> {model.n_outputs_}, solver {args.solver}"
    )
    print(_report(bundle, [("train", X_tr, y_tr), ("test", X_te, y_te)], classify))
    print(f"epochs: {model.n_iter_}   seconds: {seconds:.2f}")
    print(f"saved the model to {model_path}")
    print(f"saved the loss curve to {plot_path}")
    return 0


def _report(model, splits, classify: bool) -> str:
    """Accuracy (or R^2 and MAE) on each ``(name, X, y)`` split; for a classifier, then the
    confusion matrix of the last split."""
    from sklearn.metrics import accuracy_score, confusion_matrix, mean_absolute_error, r2_score

    lines = []
    for name, X, y in splits:
        pred = model.predict(X)
        if classify:
            lines.append(f"{name + ' accuracy':<16}{accuracy_score(y, pred):.4f}")
        else:
            lines.append(
                f"{name + ' R^2':<16}{r2_score(y, pred):.4f}   "
                f"MAE {mean_absolute_error(y, pred):.4f}"
            )
    if classify:
        labels = getattr(model, "model", model).classes_
        cm = confusion_matrix(y, pred, labels=labels)
        width = max(5, *(len(str(c)) for c in labels), len(str(cm.max())))
        lines.append(f"confusion matrix ({name}; rows: true, columns: predicted)")
        lines.append(" " * width + "".join(f"{c!s:>{width + 1}}" for c in labels))
        for label, row in zip(labels, cm, strict=True):
            lines.append(f"{label!s:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
    return "\n".join(lines)


def _load_model(path):
    from chainrule.estimators import Standardized

    model = load(path)
    if not hasattr(model, "predict"):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a trained estimator")
    return model, (model.info if isinstance(model, Standardized) else {})


def _features(info: dict, path, target: str | None = None) -> np.ndarray:
    """The feature columns of a CSV file: by name when it has those the model learned."""
    exclude = tuple(t for t in (target, info.get("target")) if t)
    return datasets.read_features(path, info.get("features"), exclude=exclude)


def cmd_predict(args) -> int:
    model, info = _load_model(args.model)
    X = _features(info, args.data)
    pred = model.predict(X)
    header, rows = ["prediction"], [[p] for p in pred]
    if args.proba:
        inner = getattr(model, "model", model)
        if not hasattr(inner, "predict_proba"):
            raise ValueError("--proba needs a classifier; this model is a regressor")
        proba = model.predict_proba(X)
        header += [f"proba_{c}" for c in inner.classes_]
        rows = [[p, *(f"{v:.6g}" for v in pr)] for p, pr in zip(pred, proba, strict=True)]
    target = open(args.output, "w", newline="") if args.output else nullcontext(sys.stdout)
    with target as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    if args.output:
        print(f"wrote {len(rows)} predictions to {args.output}", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    model, info = _load_model(args.model)
    data = datasets.read_csv(args.data, target=args.target or info.get("target"))
    X = _features(info, args.data, target=data.target_name)
    classify = hasattr(getattr(model, "model", model), "classes_")
    print(f"chainrule evaluate: {len(data.y)} samples from {args.data}")
    print(_report(model, [("all", X, data.y)], classify))
    return 0


def _vector(v: np.ndarray) -> str:
    return np.array2string(
        np.asarray(v),
        precision=4,
        threshold=12,
        edgeitems=4,
        max_line_width=96,
        suppress_small=True,
    )


def cmd_explain(args) -> int:
    """One sample's forward and backward pass, in the seed's notation, layer by layer."""
    from chainrule.estimators import Standardized
    from chainrule.training import train_xor

    if args.model is None:
        net, _ = train_xor(args.seed)
        X, y = datasets.xor()
        Y = y.reshape(-1, 1).astype(float)
        print(
            "No model given: the seed's XOR network, trained now "
            "([2, 2, 1], sigmoid, cross-entropy, gradient descent)."
        )
    else:
        model, info = _load_model(args.model)
        source = args.data or info.get("data")
        if source is None:
            raise ValueError("give --data: the model file does not say which data it learned")
        data = datasets.load(source, target=args.target or info.get("target"))
        inner = model.model if isinstance(model, Standardized) else model
        X = model.transform(data.X) if isinstance(model, Standardized) else data.X
        net = inner.network_
        if hasattr(inner, "classes_"):
            unknown = np.setdiff1d(data.y, inner.classes_)
            if unknown.size:
                raise ValueError(f"the data holds labels the model never saw: {unknown[:5]}")
            Y = inner._label_binarizer.transform(data.y)
        else:
            Y = data.y.reshape(len(data.y), -1)
    n = args.sample
    if not 0 <= n < len(X):
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


def cmd_plot(args) -> int:
    from chainrule import plotting
    from chainrule.estimators import Standardized

    if args.what == "activations":
        fig = plotting.plot_activations(beta=tuple(args.beta))
    else:
        if args.model is None:
            raise ValueError(f"--what {args.what} needs a MODEL file")
        model, info = _load_model(args.model)
        inner = model.model if isinstance(model, Standardized) else model
        if args.what == "loss":
            fig = plotting.plot_loss(inner)
        elif args.what == "weights":
            fig = plotting.plot_weights(inner)
        else:
            source = args.data or info.get("data")
            if source is None:
                raise ValueError("give --data: the model file does not say which data it learned")
            data = datasets.load(source, target=info.get("target"))
            if data.X.shape[1] != 2:
                raise ValueError(
                    f"a decision boundary needs 2-D data; {source} has {data.X.shape[1]} features"
                )
            fig = plotting.plot_decision_boundary(model, data.X, data.y)
    path = Path(args.output or Path(args.out) / f"{args.what}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    plotting.save_figure(fig, path)
    print(f"saved the {args.what} plot to {path}")
    return 0


def xor_table(net) -> str:
    """The seed's table: Input, Output, Quantized."""
    X, _ = datasets.xor()
    lines = ["Input\tOutput\tQuantized"]
    for x, out in zip(X.astype(int).tolist(), net.forward(X)[:, 0], strict=True):
        lines.append(f"{x}\t{out:.4f}\t[{int(out > 0.5)}]")
    return "\n".join(lines)


def cmd_demo(args) -> int:
    from chainrule.training import train_xor

    net, failed = train_xor(args.seed)
    for run_seed in failed:
        print(
            f"initial weights (seed {run_seed}) ended in a local minimum; "
            "restarting from new weights"
        )
    print(xor_table(net))
    return 0


def _assignments(text: str | None) -> dict[str, float] | None:
    """``"x=1,y=2"`` -> ``{"x": 1.0, "y": 2.0}``."""
    if text is None:
        return None
    out = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected NAME=VALUE pairs such as x=1,y=2, got {text!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{name.strip()}={value!r} is not a number") from None
    return out


def cmd_calc(args) -> int:
    from chainrule import calculus

    at = _assignments(getattr(args, "at", None))
    if args.calc == "derivative":
        print(calculus.derivative(args.expr, args.var, order=args.order, at=at))
    elif args.calc == "gradient":
        print(calculus.gradient(args.expr, at=at))
    elif args.calc == "critical":
        points = calculus.critical_points(args.expr)
        print(points.summary())
    else:
        result = calculus.gradient_descent(
            args.expr,
            _assignments(args.start),
            learning_rate=args.learning_rate,
            momentum=args.momentum,
            max_steps=args.max_steps,
        )
        point = ", ".join(f"{k} = {v:.6g}" for k, v in result.point.items())
        print(
            f"stopped after {result.steps} steps ({result.reason}) at {point}; "
            f"f = {result.value:.6g}"
        )
    return 0


# -- the parser ----------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes such as 64,32, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden layer sizes must be positive, got {text!r}")
    return sizes


def _floats(text: str) -> list[float]:
    try:
        return [float(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers such as 1,5, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Multi-layer perceptrons trained by backpropagation.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train",
        parents=[common],
        help="train a model and report on it",
        description="Train an MLP; by default on the embedded digits data.",
    )
    train.add_argument(
        "--data",
        default="digits",
        help=f"{', '.join(datasets.BUILTIN)} or a CSV path (default: digits)",
    )
    train.add_argument("--target", help="the target column of a CSV file (default: the last)")
    train.add_argument("--hidden", type=_sizes, default=[64], help="hidden sizes, e.g. 64,32")
    train.add_argument("--activation", default="relu", help="hidden activation (default: relu)")
    train.add_argument("--solver", default="adam", choices=["adam", "sgd", "lbfgs"])
    train.add_argument("--epochs", type=int, default=200, help="maximum epochs (default: 200)")
    train.add_argument("--batch-size", type=int, help="minibatch size (default: min(200, n))")
    train.add_argument("--learning-rate", type=float, default=0.001)
    train.add_argument("--momentum", type=float, default=0.9, help="for --solver sgd")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--test-size", type=float, default=0.25)
    train.add_argument(
        "--no-early-stopping",
        dest="early_stopping",
        action="store_false",
        help="train all epochs instead of stopping on the validation score",
    )
    train.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--resume",
        metavar="PATH",
        help="checkpoint every epoch to PATH, and continue from it if it exists",
    )
    train.set_defaults(func=cmd_train)

    predict = sub.add_parser("predict", parents=[common], help="predict the rows of a CSV file")
    predict.add_argument("model")
    predict.add_argument("data", help="a CSV file with a header row")
    predict.add_argument("--proba", action="store_true", help="add class probabilities")
    predict.add_argument("-o", "--output", help="write a CSV file instead of standard output")
    predict.set_defaults(func=cmd_predict)

    evaluate = sub.add_parser("evaluate", parents=[common], help="score a model on a CSV file")
    evaluate.add_argument("model")
    evaluate.add_argument("data")
    evaluate.add_argument("--target", help="the target column (default: the one trained on)")
    evaluate.set_defaults(func=cmd_evaluate)

    explain = sub.add_parser(
        "explain", parents=[common], help="print one sample's forward and backward pass"
    )
    explain.add_argument("model", nargs="?", help="a model file (default: train the XOR demo)")
    explain.add_argument("--sample", type=int, default=0)
    explain.add_argument("--data", help="the data set (default: the one the model learned)")
    explain.add_argument("--target")
    explain.add_argument("--top", type=int, default=3, help="largest dC/dW entries to show")
    explain.add_argument("--seed", type=int, default=0, help="seed of the XOR demo")
    explain.set_defaults(func=cmd_explain)

    plot = sub.add_parser("plot", parents=[common], help="draw a model's pictures")
    plot.add_argument("model", nargs="?")
    plot.add_argument(
        "--what", default="loss", choices=["loss", "boundary", "weights", "activations"]
    )
    plot.add_argument(
        "--beta",
        type=_floats,
        default=[1.0, 5.0],
        help="sigmoid slopes for --what activations (default: 1,5)",
    )
    plot.add_argument("--data", help="2-D data for --what boundary")
    plot.add_argument("-o", "--output", help="the PNG file (default: OUT/WHAT.png)")
    plot.add_argument("--out", default=DEFAULT_OUT)
    plot.set_defaults(func=cmd_plot)

    demo = sub.add_parser("demo", parents=[common], help="the seed's XOR run")
    demo.add_argument("name", choices=["xor"])
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=cmd_demo)

    calc = sub.add_parser("calc", parents=[common], help="derivatives, critical points, descent")
    calc_sub = calc.add_subparsers(dest="calc", required=True, metavar="WHAT")
    d = calc_sub.add_parser("derivative", parents=[common], help="f'(x), symbolically")
    d.add_argument("expr")
    d.add_argument("--var")
    d.add_argument("--order", type=int, default=1)
    d.add_argument("--at", help="evaluate at, e.g. x=2")
    g = calc_sub.add_parser("gradient", parents=[common], help="the vector of partials")
    g.add_argument("expr")
    g.add_argument("--at", help="evaluate at, e.g. x=1,y=2")
    c = calc_sub.add_parser("critical", parents=[common], help="find and classify critical points")
    c.add_argument("expr")
    gd = calc_sub.add_parser("descent", parents=[common], help="gradient descent from a start")
    gd.add_argument("expr")
    gd.add_argument("--start", required=True, help="e.g. x=0,y=0")
    gd.add_argument("--learning-rate", type=float, default=0.1)
    gd.add_argument("--momentum", type=float, default=0.0)
    gd.add_argument("--max-steps", type=int, default=10_000)
    calc.set_defaults(func=cmd_calc)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        sys.stdout = open(os.devnull, "w")
        return 1
    except (ValueError, TypeError, OSError, ModelFormatError, RuntimeError) as e:
        if args.debug:
            raise
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"chainrule {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
