"""``docs/derivation.ipynb`` executed in a fresh kernel (nbclient), and what it shows checked
against numbers worked out here independently: the seed's sections, the XOR table, one sample's
backpropagation, the activation and cost tables, the gradient check, momentum, and the widgets."""

from __future__ import annotations

import ast
import base64
import os
import re
from pathlib import Path

import numpy as np
import pytest

from chainrule.playground.session import Session

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs/derivation.ipynb"
PNG = b"\x89PNG\r\n\x1a\n"
WIDGET = "application/vnd.jupyter.widget-view+json"
EPS = np.finfo(np.float64).eps
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    """The executed notebook's code cells by tag: ``{tag: cell}``."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        assert not cell.get("outputs"), "the notebook is kept without outputs"
    path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    with pytest.MonkeyPatch.context() as mp:  # the kernel imports this checkout's chainrule
        mp.setenv("PYTHONPATH", path)
        client = nbclient.NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path_factory.mktemp("run"))}},
        )
        client.execute()
    tagged = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            (tag,) = cell.metadata["tags"]
            tagged[tag] = cell
    tagged["__notebook__"] = nb
    return tagged


def text(cell) -> str:
    """Everything a cell printed."""
    return "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream")


def values(cell) -> dict[str, object]:
    """``name = [python literal]`` lines of a cell's print-out, parsed."""
    found = {}
    for line in text(cell).splitlines():
        name, sep, value = line.strip().partition(" = ")
        if sep:
            found[name] = ast.literal_eval(value)
    return found


def figures(cell) -> list[bytes]:
    """The PNGs a cell shows (a notebook keeps them in base64)."""
    data = [o["data"] for o in cell.outputs if "data" in o]
    return [base64.b64decode(d["image/png"]) for d in data if "image/png" in d]


def test_every_cell_ran_without_error(cells):
    for tag, cell in cells.items():
        if tag != "__notebook__":
            assert all(o["output_type"] != "error" for o in cell.outputs), tag


def test_vectors_and_derivatives(cells):
    assert text(cells["vectors"]).splitlines() == ["AB = [2 1]", "|AB| = 2.2361 (sqrt 5 = 2.2361 )"]
    lines = text(cells["derivatives"]).splitlines()
    for dx, line in zip([1e-1, 1e-2, 1e-3, 1e-4], lines, strict=False):
        quotient = ((2 + dx) ** 5 - 2**5) / dx  # the difference quotient, towards 5 * 2^4 = 80
        assert line == f"dx = {dx:g}: (f(2 + dx) - f(2)) / dx = {quotient:.4f}"
    assert lines[4:] == [
        "power rule: 5*x**4",
        "product rule: 4*x**3*cos(x) - (x**4 + 2)*sin(x)",
    ]
    assert text(cells["partials"]).splitlines() == [
        "df/dx = 4*x**3*y",
        "df/dy = x**4",
        "grad f = [4*x, 4]",
        "grad f at (1, 2) = [4. 4.]",
    ]


def test_the_figures_are_pictures_in_a_fresh_kernel(cells):
    """chainrule's figures are made without pyplot; each still shows as a PNG, the cell's value."""
    for tag in ("f-plot", "descent", "activation-plot"):
        (png,) = figures(cells[tag])
        assert png.startswith(PNG) and len(png) > 10_000, tag


def test_critical_points_and_descent(cells):
    assert text(cells["critical-1d"]).splitlines() == [
        "maximum at x=-1, f=2  [f''(-1) = -6 < 0]",  # x^3 - 3x: f' = 3x^2 - 3, f'' = 6x
        "minimum at x=1, f=-2  [f''(1) = 6 > 0]",
    ]
    kinds = [line.split(" at ")[0] for line in text(cells["critical-2d"]).splitlines()]
    assert kinds == ["saddle", "minimum"]  # (0, 0): rt - s^2 = -9; (1, 1): 36 - 9 > 0, r = 6
    assert text(cells["descent"]).startswith("end: [ 3. -1.] after ")
    assert "gradient norm below tol" in text(cells["descent"])


def test_the_seeds_xor_table(cells):
    lines = text(cells["xor"]).splitlines()
    assert lines[0] == "Input\tOutput\tQuantized"
    rows = [line.split("\t") for line in lines[1:]]
    assert [r[0] for r in rows] == ["[0, 0]", "[1, 0]", "[0, 1]", "[1, 1]"]
    assert [r[2] for r in rows] == ["[0]", "[1]", "[1]", "[0]"]  # XOR learnt
    for _, output, quantized in rows:
        assert (float(output) > 0.5) == (quantized == "[1]")


def test_one_samples_backpropagation_by_hand(cells):
    """The printed z, a, delta, dW, db of the sample [1, 0] (target 1) are the seed's equations
    worked here in numpy from the printed weights (each printed as Python's repr: exact)."""
    found = values(cells["trace"])
    W1, b1 = np.array(found["W^1"]), np.array(found["b^1"])
    W2, b2 = np.array(found["W^2"]), np.array(found["b^2"])
    a0, y = np.array([1.0, 0.0]), np.array([1.0])
    z1 = W1 @ a0 + b1  # z^m = W^m a^(m-1) + b^m
    a1 = 1 / (1 + np.exp(-z1))  # a^m = sigma(z^m)
    z2 = W2 @ a1 + b2
    a2 = 1 / (1 + np.exp(-z2))
    delta2 = a2 - y  # sigmoid with cross-entropy: dC/dz^L = a^L - y
    delta1 = (W2.T @ delta2) * a1 * (1 - a1)  # (W^(m+1)T delta^(m+1)) o sigma'(z^m)
    expected = {
        "z^1": z1,
        "a^1": a1,
        "z^2": z2,
        "a^2": a2,
        "delta^2": delta2,
        "delta^1": delta1,
        "dW^2": np.outer(delta2, a1),  # delta^m a^(m-1)T
        "dW^1": np.outer(delta1, a0),
        "db^2": delta2,  # dC/db^m = delta^m
        "db^1": delta1,
        "C": -np.log(a2),  # (y - 1) log(1 - a) - y log a with y = 1
    }
    # sigma computed another way (scipy's expit) differs by an ulp in a, and 1 - a or a - y
    # magnifies that by 1 / (1 - a): the tolerance is a few ulps so magnified
    a = np.concatenate([a1, a2])
    rtol = 8 * EPS / np.min(np.minimum(a, 1 - a))
    for name, value in expected.items():
        np.testing.assert_allclose(found[name], value.reshape(np.shape(found[name])), rtol=rtol)
    delta_line = text(cells["output-delta"]).strip()
    shown = re.findall(r"\[(-?[\d.]+)\]", delta_line)
    assert shown[0] == shown[1] == f"{delta2[0]:.4f}"  # delta^L is a^L - y


def test_the_activation_and_cost_tables(cells):
    rows = [line.split("\t") for line in text(cells["activation-table"]).splitlines()[1:]]
    s = 1 / (1 + np.exp(-0.5))
    exact = {  # a(0.5) and da/dz(0.5)
        "sigmoid": (s, s * (1 - s)),
        "tanh": (np.tanh(0.5), 1 - np.tanh(0.5) ** 2),
        "relu": (0.5, 1.0),
    }
    assert [r[0] for r in rows] == list(exact)
    # 6 printed decimals round by 5e-7; central differences of these smooth functions at
    # z = 0.5 are good to far better than that (the calculus tests bound their error)
    for name, a, prime, numeric in rows:
        assert float(a) == pytest.approx(exact[name][0], abs=5e-7)
        assert float(prime) == pytest.approx(exact[name][1], abs=5e-7)
        assert float(numeric) == pytest.approx(exact[name][1], abs=1e-6)
    rows = [line.split("\t") for line in text(cells["cost-table"]).splitlines()[1:]]
    exact = {  # C and dC/da at a = 0.8, y = 1
        "squared_error": (0.5 * 0.2**2, 0.8 - 1),  # 1/2 (y - a)^2, a - y (erratum 2)
        "binary_cross_entropy": (-np.log(0.8), -1 / 0.8),  # (a - y) / (a (1 - a))
    }
    assert [r[0] for r in rows] == list(exact)
    for name, cost, derivative, numeric in rows:
        assert float(cost) == pytest.approx(exact[name][0], abs=5e-7)
        assert float(derivative) == pytest.approx(exact[name][1], abs=5e-7)
        assert float(numeric) == pytest.approx(exact[name][1], abs=1e-6)


def test_gradient_check_and_momentum(cells):
    error = float(text(cells["gradcheck"]).split(": ")[1])
    assert 0 <= error < 1e-6  # what the notebook calls good
    velocity, w, lines = 0.0, 0.0, text(cells["momentum"]).splitlines()
    for t, line in enumerate(lines, 1):
        velocity = 0.9 * velocity - 0.1 * 1.0  # Delta w^t = mu Delta w^(t-1) - eta dC/dw
        w += velocity
        assert line == f"step {t}: Delta w = {velocity:.4f}, w = {w:.4f}"
    assert len(lines) == 3


def test_the_widgets_are_widgets_with_their_state(cells):
    """The widget cells show widget views; the saved widget state has the sliders at 5 and a
    picture in each widget."""
    for tag in ("sliders", "playground"):
        (data,) = [o["data"] for o in cells[tag].outputs if "data" in o]
        assert WIDGET in data and data[WIDGET]["model_id"]
    state = cells["__notebook__"].metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    models = state["state"].values()
    sliders = {
        m["state"]["description"]: m["state"]["value"]
        for m in models
        if m["model_name"] == "FloatSliderModel"
    }
    assert sliders == {"beta": 5.0, "theta": 5.0}
    assert sum(m["model_name"] == "ImageModel" for m in models) == 2
    # the playground stepped 20 epochs in the kernel: the session's, as here
    reference = Session()
    for _ in range(20):
        reference.train_epoch()
    assert text(cells["playground-step"]) == f"epoch 20 cost {round(reference.history[-1][1], 4)}\n"
