"""Pictures (:mod:`chainrule.calculus.plots`): ``f``, ``f'``, ``f''`` stacked, and contours with a
descent path and the critical points; sizes and domains checked."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from chainrule import calculus as calc

x, y, z = sp.symbols("x y z")  # plain symbols: results mix with the user's sympy


# --------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------


@pytest.fixture
def agg():
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


def test_plot_derivatives(agg, tmp_path):
    fig = calc.plot_derivatives("x**3 - 3*x", domain=(-2.5, 2.5), num=101)
    f_ax, d1_ax, d2_ax = fig.axes
    assert [line.get_label() for line in f_ax.lines] == ["f"]
    assert [line.get_label() for line in d1_ax.lines] == ["f'", "zero"]
    assert [line.get_label() for line in d2_ax.lines] == ["f''", "zero"]
    np.testing.assert_allclose(d1_ax.lines[0].get_ydata(), 3 * np.linspace(-2.5, 2.5, 101) ** 2 - 3)
    np.testing.assert_allclose(d2_ax.lines[0].get_ydata(), 6 * np.linspace(-2.5, 2.5, 101))
    markers = {c.get_label(): c.get_offsets() for c in f_ax.collections}
    np.testing.assert_allclose(markers["maximum"], [[-1.0, 2.0]])
    np.testing.assert_allclose(markers["minimum"], [[1.0, -2.0]])
    out = tmp_path / "derivatives.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000


def test_plot_derivatives_of_a_callable(agg, tmp_path):
    fig = calc.plot_derivatives(lambda t: t**2 + 10 * math.sin(t), domain=(-5, 5), num=41)
    assert len(fig.axes) == 3
    labels = sorted(c.get_label() for c in fig.axes[0].collections)
    assert labels == ["maximum", "minimum"]
    grid = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(
        fig.axes[1].lines[0].get_ydata(), 2 * grid + 10 * np.cos(grid), atol=1e-6
    )
    fig.savefig(tmp_path / "callable.png")


def test_plot_contour_with_descent_and_critical_points(agg, tmp_path):
    f = "x**3 + y**3 - 3*x*y"
    run = calc.gradient_descent(f, start={"x": 2, "y": 0.5}, learning_rate=0.05)
    fig = calc.plot_contour(f, descent=run, num=60)
    (ax,) = fig.axes
    path_line = next(line for line in ax.lines if line.get_label() == "gradient descent")
    np.testing.assert_allclose(np.column_stack(path_line.get_data()), run.path)
    labels = {c.get_label() for c in ax.collections}
    assert {"minimum", "saddle"} <= labels
    kinds_drawn = {
        c.get_label(): c.get_offsets() for c in ax.collections if c.get_label() in calc.KINDS
    }
    np.testing.assert_allclose(kinds_drawn["saddle"], [[0.0, 0.0]])
    np.testing.assert_allclose(kinds_drawn["minimum"], [[1.0, 1.0]])
    assert any(type(c).__name__.endswith("ContourSet") for c in ax.collections)
    out = tmp_path / "contour.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000


def test_plot_sizes_and_domains_are_checked(agg):
    with pytest.raises(ValueError, match="num must be an integer from 2 to 2000"):
        calc.plot_derivatives("x**2", num=10**10)  # was a MemoryError
    with pytest.raises(ValueError, match="num must be an integer from 2 to 2000"):
        calc.plot_contour("x**2 + y**2", num=10**6)
    with pytest.raises(ValueError, match="domain must be"):
        calc.plot_derivatives("x**2", domain=(math.nan, 1))
    for bounds in [(math.nan, 1), {"x": (5, -5)}, {"x": (-math.inf, 0)}]:
        with pytest.raises(ValueError, match="bounds must be"):
            calc.critical_points("x**2 + y**2", bounds=bounds)


def test_plot_contour_needs_two_variables(agg):
    with pytest.raises(ValueError, match="two variables"):
        calc.plot_contour("x**2")
    fig = calc.plot_contour("x**2 + y**2", critical=False, bounds=[(-1, 1), (-2, 2)], num=20)
    assert fig.axes[0].get_xlim() == (-1.0, 1.0) and fig.axes[0].get_ylim() == (-2.0, 2.0)
