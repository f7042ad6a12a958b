"""``chainrule plot`` (:mod:`chainrule.cli.plot`): every figure a PNG, its output checked first."""

from __future__ import annotations

import pytest
from matplotlib.image import imread

import chainrule as cr
from chainrule import datasets, plotting

from commands import call, run


@pytest.mark.parametrize("what", ["loss", "weights", "activations", "boundary"])
def test_every_plot_is_a_png(what, trained, tmp_path):
    out, _, _ = trained
    if what == "boundary":
        run(
            "train",
            "--data",
            "moons",
            "--hidden",
            "8",
            "--solver",
            "lbfgs",
            "--quiet",
            "--out",
            tmp_path,
        )
        model = tmp_path / "model.crm"
    else:
        model = out / "model.crm"
    png = tmp_path / f"{what}.png"
    args = ["plot", "--what", what, "-o", png] + ([] if what == "activations" else [model])
    run(*args)
    image = imread(png)
    # the expected size: the same figure built here, at save_figure's 100 dpi
    if what == "activations":
        fig = plotting.plot_activations(beta=(1.0, 5.0))
    elif what == "boundary":
        moons = datasets.load("moons")
        fig = plotting.plot_decision_boundary(cr.load(model), moons.X, moons.y)
    else:
        draw = {"loss": plotting.plot_loss, "weights": plotting.plot_weights}[what]
        fig = draw(cr.load(model).model)
    width, height = (fig.get_size_inches() * 100).round().astype(int)
    assert image.shape[:2] == (height, width) and image.ndim == 3
    assert image[..., :3].std() > 0.01  # not a blank canvas


def test_plot_boundary_refuses_data_that_is_not_2d(trained):
    out, _, _ = trained
    result = run("plot", out / "model.crm", "--what", "boundary", check=False)
    assert result.returncode == 1 and "2-D data" in result.stderr


def test_plot_output_is_checked_before_drawing(capsys, tmp_path):
    (tmp_path / "dir.png").mkdir()
    status, _, err = call(capsys, "plot", "--what", "activations", "-o", tmp_path / "dir.png")
    assert status == 1 and "is a directory" in err
