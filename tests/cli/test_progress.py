"""``chainrule train``'s progress (:mod:`chainrule.cli.progress`): a live bar unless
``--quiet``, and Ctrl-C at any moment of a run saves what it has and exits 130."""

from __future__ import annotations

import os
import subprocess

import pytest

import chainrule as cr

from commands import CHAINRULE, call, run


def test_train_shows_a_progress_bar_unless_quiet(tmp_path):
    result = run(
        "train",
        "--data",
        "xor",
        "--hidden",
        "4",
        "--epochs",
        "5",
        "--test-size",
        "0.5",
        "--out",
        tmp_path,
        "--no-early-stopping",
    )
    assert "epoch" in result.stderr and "loss" in result.stderr


def test_ctrl_c_during_a_checkpoint_write_saves_the_model_and_exits_130(
    capsys, monkeypatch, tmp_path
):
    import signal

    from chainrule.persistence import atomic

    real, calls = atomic.atomic_write, []

    def write_then_interrupt(path):
        calls.append(path)
        if len(calls) == 2:  # the second checkpoint: Ctrl-C in the middle of its write
            os.kill(os.getpid(), signal.SIGINT)
        return real(path)

    monkeypatch.setattr("chainrule.persistence.writer.atomic_write", write_then_interrupt)
    ckpt = tmp_path / "fit.ckpt"
    status, _, err = call(
        capsys, "train", "--data", "iris", "--epochs", "50", "--no-early-stopping",
        "--quiet", "--out", tmp_path / "run", "--resume", ckpt,
    )  # fmt: skip
    assert status == 130, err
    assert "interrupted; saved the model kept so far" in err
    model = cr.load(tmp_path / "run") if False else cr.load(tmp_path / "run" / "model.crm")
    assert 2 <= model.model.n_iter_ < 50
    assert cr.load(ckpt).n_iter_ >= 2  # the checkpoint was finished, not torn
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.ckpt", "run"]


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_during_the_final_save_saves_the_model_then_exits_130(
    capsys, monkeypatch, tmp_path, presses
):
    """Ctrl-C (once or twice) after fitting ends, as the model is being saved: the save and
    the loss curve are finished, then the status is 130."""
    import signal

    from chainrule.estimators import Standardized

    real = Standardized.save

    def interrupted_save(self, path):
        for _ in range(presses):
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, before the write
        real(self, path)

    monkeypatch.setattr(Standardized, "save", interrupted_save)
    status, out, err = call(capsys, "train", "--data", "iris", "--epochs", "3", "--quiet",
                            "--out", tmp_path)  # fmt: skip
    assert status == 130, err
    assert "interrupted; saved the model kept so far" in err
    assert "saved the model to" in out
    assert cr.load(tmp_path / "model.crm").model.n_iter_ == 3
    assert (tmp_path / "loss.png").is_file()


@pytest.mark.slow
def test_ctrl_c_while_training_exits_130_after_saving(tmp_path):
    import signal
    import time

    ckpt = tmp_path / "fit.ckpt"
    process = subprocess.Popen(
        [CHAINRULE, "train", "--data", "digits", "--epochs", "100000", "--no-early-stopping",
         "--quiet", "--out", tmp_path / "run", "--resume", ckpt],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        while not ckpt.exists() and process.poll() is None:
            time.sleep(0.05)  # training is under way once the first checkpoint exists
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "saved the model to" in out and (tmp_path / "run" / "model.crm").is_file()
