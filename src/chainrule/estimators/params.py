"""The parameters both estimators take, with scikit-learn's constraints."""

from __future__ import annotations

import inspect
import os
import re
import textwrap
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from chainrule.activations import Activation
from chainrule.initializers import INITS

#: chainrule's documentation site (built from docs/; ``[project.urls]`` of pyproject.toml names
#: the same address): the HTML repr links each estimator to its page there, each parameter to its
#: entry on that page
DOCS_URL = "https://chainrule.readthedocs.io/en/latest/"

#: the parameters both estimators take, with scikit-learn's constraints
PARAMETER_CONSTRAINTS: dict = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [str, Activation, list, tuple],
    "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [
        StrOptions({"constant", "invscaling", "adaptive", "cosine", "step"}),
        callable,
    ],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
    "restart_epochs": [Interval(Integral, 1, None, closed="left"), None],
    "restart_mult": [Interval(Integral, 1, None, closed="left")],
    "learning_rate_min": [Interval(Real, 0, None, closed="left")],
    "step_epochs": [Interval(Integral, 1, None, closed="left")],
    "step_factor": [Interval(Real, 0, 1, closed="right")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state", np.random.Generator],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "output_activation": [str, Activation, None],
    "n_init": [Interval(Integral, 1, None, closed="left")],
    "init": [StrOptions(set(INITS)), None],
    "scoring": [str, callable, None],
    "dtype": [StrOptions({"float32", "float64"}), None],
    "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "checkpoint": [str, os.PathLike, None],
    "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
    "resume": ["boolean"],
    "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
}

#: the numpydoc entries of the parameters both estimators take, scikit-learn's meaning first;
#: a class's docstring documents its own parameters (and may say more of these), and
#: :func:`documented` completes its "Parameters" section with the rest. No "-" in a type: the
#: HTML repr puts the type in a text fragment unescaped, where "-" is syntax (1e-08 would break
#: the link)
SHARED_PARAMETERS = """
hidden_layer_sizes : sequence of int, default=(100,)
    ``N^1, ..., N^(L-1)``: the number of units of each hidden layer.
activation : str, Activation or list, default="relu"
    The hidden layers' activation ``sigma^m``: a name (``"logistic"`` is the sigmoid), a
    :class:`chainrule.Activation`, or one per hidden layer.
solver : {"adam", "sgd", "lbfgs"}, default="adam"
    The optimizer: Adam, minibatch gradient descent ``W^m <- W^m - eta dC/dW^m`` (with
    ``momentum``), or L-BFGS on the whole data set.
alpha : float, default=0.0001
    The L2 penalty: ``alpha / (2 n) sum_m ||W^m||^2`` added to the cost (with ``l1_ratio``,
    the penalty below).
l1_ratio : float, default=0.0
    The L1 share of the penalty, as scikit-learn's linear models name it (chainrule's
    addition): ``alpha / n sum_m (l1_ratio |W^m|_1 + (1 - l1_ratio) / 2 ||W^m||^2)`` added to
    the cost (and to ``loss_curve_``); 0 is the L2 term alone. Its gradient uses the
    subgradient ``sign(W)`` (0 at 0). Biases are not penalized.
weight_decay : float, default=0.0
    ``lambda`` of decoupled weight decay (chainrule's addition; Loshchilov and Hutter):
    each step of ``"adam"`` or ``"sgd"`` first shrinks the weights, ``W^m <- W^m - eta
    lambda W^m`` (``eta`` the current learning rate), outside the gradient, so Adam's moments
    never see it; ``"adam"`` with it is AdamW. Biases are not decayed, as ``alpha`` leaves
    them; unused by L-BFGS.
batch_size : int or "auto", default="auto"
    Rows per minibatch (``"auto"``: ``min(200, n_samples)``); unused by L-BFGS.
learning_rate : {"constant", "invscaling", "adaptive", "cosine", "step"} or callable, \
default="constant"
    The schedule of ``eta``. scikit-learn's three, for ``solver="sgd"`` only (``"adam"``
    ignores them, as in scikit-learn): constant, ``eta_t = eta_0 / t^power_t``, or divided by
    5 each time the loss stops improving. chainrule's, for ``"sgd"`` and ``"adam"``, one rate
    per epoch ``e`` (counted from the weights' initialisation, so ``partial_fit``,
    ``warm_start`` and ``resume`` go on with it; ``k = e - warmup_epochs``):
    ``"cosine"``, ``eta_min + (eta_0 - eta_min) (1 + cos(pi k_i / T_i)) / 2`` (annealed once
    over the epochs of ``max_iter`` after the warm-up, or restarted every ``restart_epochs``);
    ``"step"``, ``eta_0 step_factor^floor(k / step_epochs)``; a callable ``f`` of the epoch,
    ``eta_0 f(k)`` (a model file cannot hold it). ``docs/derivation.md`` has each formula.
learning_rate_init : float, default=0.001
    ``eta_0``, the first step size of ``"sgd"`` and ``"adam"``.
power_t : float, default=0.5
    The exponent of the ``"invscaling"`` schedule.
warmup_epochs : int, default=0
    Epochs of linear warm-up before the schedule, ``eta_e = eta_0 (e + 1) / (W + 1)`` for
    ``e < W`` (with ``"constant"``, ``"cosine"``, ``"step"`` or a callable).
restart_epochs : int or None, default=None
    ``"cosine"``: the period ``T_0`` of warm restarts (SGDR); None anneals once, over
    ``max_iter - warmup_epochs`` epochs, and then holds ``learning_rate_min`` (a resume with
    another ``max_iter`` anneals over that one).
restart_mult : int, default=1
    ``"cosine"`` with restarts: each period is this many times the last,
    ``T_(i+1) = restart_mult T_i``.
learning_rate_min : float, default=0.0
    ``"cosine"``: ``eta_min``, the rate at the end of each period.
step_epochs : int, default=30
    ``"step"``: the epochs between two decays.
step_factor : float, default=0.1
    ``"step"``: the factor of each decay, in (0, 1].
max_iter : int, default=200
    Epochs of ``"sgd"`` and ``"adam"``; iterations of L-BFGS.
shuffle : bool, default=True
    Shuffle the rows every epoch (``"sgd"``, ``"adam"``).
random_state : int, RandomState, Generator or None, default=None
    The seed of the initial weights, the early-stopping split and the shuffles.
tol : float, default=0.0001
    Training stops when the loss (or validation score) improves by less than ``tol`` for
    ``n_iter_no_change`` epochs in a row.
verbose : bool, default=False
    Print the loss of every epoch.
warm_start : bool, default=False
    Start ``fit`` from the weights of the last fit.
momentum : float, default=0.9
    The momentum of ``"sgd"``: ``v <- momentum v - eta dC/dW``, ``W <- W + v``.
nesterovs_momentum : bool, default=True
    Nesterov's momentum for ``"sgd"``.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the rows (or score the ``X_val``, ``y_val`` given to
    ``fit``) and stop when the validation score stops improving; keep the best weights.
validation_fraction : float, default=0.1
    The held-out share of the rows for early stopping; ignored when ``fit`` is given
    ``X_val`` and ``y_val``.
beta_1 : float, default=0.9
    Adam's decay of the first moment.
beta_2 : float, default=0.999
    Adam's decay of the second moment.
epsilon : float
    Adam's term that keeps its division finite; by default ``1e-08``.
n_iter_no_change : int, default=10
    Epochs without an improvement of ``tol`` before training stops.
max_fun : int, default=15000
    L-BFGS's most evaluations of the loss.
output_activation : str or Activation, optional
    The output layer's ``sigma^L``; by default the one the target and cost call for (sigmoid or
    softmax for a classifier, the identity for a regressor, the exponential for Poisson).
n_init : int, default=1
    Train from this many initial weights and keep the best run.
init : {"sklearn", "glorot_uniform", "he_normal", "normal"}, optional
    Weight initialisation; by default scikit-learn's, from the same ``random_state``.
scoring : str, callable or None, default=None
    What early stopping watches (and ``validation_scores_`` records): ``None`` for the
    estimator's ``score``, ``"loss"`` for the validation loss, or any scikit-learn scorer.
dtype : {"float32", "float64"} or None, default=None
    The precision; by default float32 input stays float32 and anything else is float64.
max_grad_norm : float or None, default=None
    Scale each minibatch gradient to at most this norm.
checkpoint : path or None, default=None
    Write the training state to this file every ``checkpoint_every`` epochs, atomically.
checkpoint_every : int, default=1
    Epochs between checkpoints.
resume : bool, default=False
    Continue from ``checkpoint`` when it exists: the model an uninterrupted fit makes.
dropout : float or sequence of float, default=0.0
    Inverted dropout while training (chainrule's addition): each unit of hidden layer ``m``
    is dropped with probability ``p^m`` (one rate for all hidden layers, or one per layer,
    each in [0, 1)) and the kept ones are scaled by ``1 / (1 - p^m)``; prediction keeps every
    unit. The masks are drawn from ``random_state`` (one draw an epoch): a fit replays.
    Needs a stochastic solver ("sgd" or "adam").
"""

#: the docstring of the estimators' ``fit``
FIT_DOC = """Fit the model to ``X`` and ``y`` by backpropagation.

Parameters
----------
X : {array-like, sparse matrix} of shape (n_samples, n_features)
y : array-like of shape (n_samples,) or (n_samples, n_outputs)
sample_weight : array-like of shape (n_samples,), optional
    The cost becomes the weighted mean ``sum_i w_i C_i / sum_i w_i``.
X_val : {array-like, sparse matrix} of shape (n_val, n_features), optional
    A validation set (chainrule's addition, named as in scikit-learn's
    ``HistGradientBoosting*``), checked and encoded as ``X`` and ``y`` are (not with
    ``solver="lbfgs"``; with dask ``X``, dask or in memory, scored on the workers;
    with ``X`` in memory, in memory). After each epoch its
    score and loss are appended to ``validation_scores_`` and
    ``validation_loss_curve_``; with ``early_stopping=True`` it is the set early
    stopping watches, ``X`` is not split and ``validation_fraction`` is ignored. With
    ``early_stopping=False`` (where scikit-learn's ``HistGradientBoosting*`` refuse it)
    it is only recorded: training stops and keeps its weights as without it. Every
    ``n_init`` run uses it. A checkpoint does not store it: ``resume`` goes on with the
    validation set the resuming call is given (a split of ``X`` if none).
y_val : array-like of shape (n_val,) or (n_val, n_outputs), optional
    The targets of ``X_val``: given with it or not at all; a classifier's labels must
    be among the classes of ``y``.
sample_weight_val : array-like of shape (n_val,), optional
    The weights of ``X_val`` in its score and loss (times ``class_weight``, as the
    held-out samples of a split).

Returns
-------
self

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from chainrule import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(early_stopping=True, max_iter=20, random_state=0)
>>> clf = clf.fit(X[::2], y[::2], X_val=X[1::2], y_val=y[1::2])
>>> clf.t_ == clf.n_iter_ * len(X[::2])  # every row of X trains: none held out
True
>>> len(clf.validation_scores_) == clf.n_iter_
True
"""


def _entries(section: str) -> dict[str, str]:
    """The numpydoc entries of a dedented "Parameters" section, by parameter name."""
    entries: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", section.strip("\n")):
        entries[block.split(" : ", 1)[0]] = block
    return entries


def documented(cls: type) -> type:
    """``cls`` with a docstring whose "Parameters" section holds every parameter of its
    ``__init__``: the docstring's own entries, the others from :data:`SHARED_PARAMETERS`. The
    HTML repr links each parameter to its entry on the class's page by the text of the first
    ``"name : "`` in the docstring, so a name comes before the names that end with it
    (``init`` before ``n_init``)."""
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    head, _, rest = cls.__doc__.partition("Parameters\n    ----------\n")
    section, _, tail = rest.partition("\n\n")
    entries = {**_entries(SHARED_PARAMETERS), **_entries(textwrap.dedent(section))}
    place = {name: i for i, name in enumerate(names)}
    order = sorted(
        names, key=lambda n: (min(place[m] for m in names if m == n or m.endswith("_" + n)), len(n))
    )
    body = textwrap.indent("\n".join(entries[name] for name in order), "    ")
    cls.__doc__ = f"{head}Parameters\n    ----------\n{body}\n\n{tail}"
    return cls
