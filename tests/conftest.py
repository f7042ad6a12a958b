"""Shared fixtures: small data sets and networks built to be off every kink."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time

# before scipy is first imported: scikit-learn's estimator checks then run their array-API
# check on chainrule's estimators instead of skipping it
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

import chainrule as cr

#: output activations each cost is tested with: its canonical link first
OUTPUTS_FOR_COST = {
    "squared_error": ["identity", "sigmoid", "softmax", "tanh"],
    "binary_cross_entropy": ["sigmoid", "softmax"],
    "categorical_cross_entropy": ["softmax", "sigmoid"],
    "absolute_error": ["identity", "tanh"],
    "huber": ["identity", "softplus"],
    "poisson": ["exponential", "softplus"],
}
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "identity"]
KINKED = {"relu", "leaky_relu", "elu"}  # derivative undefined (or not smooth) at z = 0


def make_targets(cost: str, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Targets valid for ``cost``: probabilities summing to one, values in [0, 1], counts..."""
    if cost == "categorical_cross_entropy":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if cost == "binary_cross_entropy":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    if cost == "poisson":
        return rng.poisson(2.0, size=(n, k)).astype(float)
    return rng.normal(size=(n, k))


def smooth_problem(sizes, hidden, output, cost, *, seed=0, n=6, alpha=0.0, dtype=np.float64):
    """A network and data whose pre-activations sit away from every kink (|z| > 1e-3) and whose
    outputs sit away from the absolute-error and Huber kinks (|a - y| not near 0 or delta)."""
    rng = np.random.default_rng(seed)
    for attempt in range(50):
        net = cr.Network(
            sizes,
            activation=hidden,
            output_activation=output,
            cost=cost,
            alpha=alpha,
            init="normal",
            dtype=dtype,
            random_state=seed + attempt,
        )
        for W in net.W:
            W *= 0.5  # keep the seed's N(0, 1) weights from saturating deep nets
        X = rng.normal(size=(n, sizes[0]))
        Y = make_targets(cost, n, sizes[-1], rng)
        trace = net.backprop(X, Y)
        z_ok = all(np.abs(z).min() > 1e-3 for z in trace.z)
        r = np.abs(trace.a[-1] - Y)
        r_ok = cost not in ("absolute_error", "huber") or (
            r.min() > 1e-3 and np.abs(r - 1.0).min() > 1e-3
        )
        if z_ok and r_ok:
            return net, X, Y
    raise RuntimeError("could not draw a problem away from the kinks")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def iris():
    """Iris, standardised: ``(X, y)``."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@contextlib.contextmanager
def dask_cluster():
    """A dask cluster of two worker processes of one thread each, everything on loopback: its
    client (not made the default), and the cluster closed after."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # its HTTP server on a free loopback port
        memory_limit="600MiB",
    ) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            yield client


@pytest.fixture(scope="module")
def cluster_client():
    """:func:`dask_cluster` started for each test module that asks for it (so none sees
    another's data) and closed after it (tests/scale/conftest.py: one for the folder)."""
    with dask_cluster() as client:
        yield client


@pytest.fixture(params=["threads", "distributed"])
def client(request):
    """None under dask's threaded scheduler; the cluster's client, made current, otherwise."""
    if request.param == "threads":
        yield None
        return
    client = request.getfixturevalue("cluster_client")
    with client.as_current():
        yield client


#: Debian's Chromium, which Playwright drives (it cannot download a browser here), and its flags
CHROMIUM = "/usr/bin/chromium"
#: the mark of a test that drives it: skipped where it is not installed
needs_chromium = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
    reason="the browser test needs Debian's chromium at /usr/bin/chromium",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium for the browser tests of one module (closed after it)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def playground_server(**kwargs):
    """A real uvicorn playground (``make_server``'s keyword arguments) in a thread on 127.0.0.1
    and a free port: yields ``(server, port, app)`` once it has started, and stops it after."""
    from chainrule.playground.server import make_server

    server, sock, app = make_server("127.0.0.1", 0, **kwargs)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the playground server did not start"
    try:
        yield server, sock.getsockname()[1], app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
