"""``chainrule train --schedule NAME[:PARAMETER=VALUE,...]`` (chainrule.cli.schedule)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chainrule as cr


def train(*args, cwd):
    command = [sys.executable, "-m", "chainrule", "train", "--data", "iris", "--hidden", "4"]
    command += ["--epochs", "6", "--quiet", "--no-early-stopping", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_the_schedule_trains_and_is_saved_with_the_model(tmp_path):
    spec = "cosine:warmup_epochs=2,restart_epochs=2,restart_mult=2,learning_rate_min=1e-5"
    result = train("--schedule", spec, "--out", tmp_path / "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model = cr.load(tmp_path / "run" / "model.crm")
    estimator = model.model  # the Standardized bundle's estimator
    params = estimator.get_params()
    assert (params["learning_rate"], params["warmup_epochs"], params["restart_epochs"]) == (
        "cosine",
        2,
        2,
    )
    assert (params["restart_mult"], params["learning_rate_min"]) == (2, 1e-5)
    assert estimator.n_iter_ == 6


@pytest.mark.parametrize(
    "spec,message",
    [
        ("linear", "unknown schedule 'linear'"),
        ("cosine:warmup=2", "expected PARAMETER=VALUE with PARAMETER one of warmup_epochs"),
        ("step:step_epochs=two", "step_epochs must be an integer, got 'two'"),
        ("step:step_factor=2", "The 'step_factor' parameter of --schedule must be a float in the"),
    ],
)
def test_a_bad_schedule_is_refused_before_training(spec, message, tmp_path):
    result = train("--schedule", spec, "--out", tmp_path / "run", cwd=tmp_path)
    assert result.returncode == 2
    assert f"argument --schedule: {message}" in result.stderr
    assert not (tmp_path / "run").exists()


def test_help_documents_the_syntax():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--help"], capture_output=True, text=True
    )
    text = " ".join(result.stdout.split())
    assert "--schedule NAME[:P=V,...]" in text
    assert "NAME[:PARAMETER=VALUE,...]: NAME is constant (the default), cosine, step" in text
    assert "cosine:warmup_epochs=5,restart_epochs=20" in text
