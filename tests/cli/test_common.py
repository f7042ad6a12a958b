"""What the ``chainrule`` commands write: never one of their own inputs, and never a model that
could not be saved after the training is done (issue 21, points 2 and 3)."""

from __future__ import annotations

import json
import os

import pytest
import safetensors

import chainrule as cr
from chainrule.cli.common import check_outputs
from chainrule.cli.main import main
from chainrule.cli.preflight import META_ROOM_BASE, META_ROOM_PER_LAYER


def call(capsys, *argv):
    """``chainrule ARGV`` in this process: ``(status, stdout, stderr)``."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder of ``chainrule train`` (2-D data, so that every plot can be drawn)."""
    out = tmp_path_factory.mktemp("run") / "run"
    args = ["train", "--data", "moons", "--hidden", "4", "--epochs", "3", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    return out


@pytest.fixture
def files(run_dir, tmp_path):
    """A copy of the run folder and a CSV file of the data, in ``tmp_path``."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.crm").write_bytes((run_dir / "model.crm").read_bytes())
    moons = cr.datasets.load("moons")
    rows = [",".join(map(str, [*x, y])) for x, y in zip(moons.X, moons.y, strict=True)]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(["x1,x2,target", *rows]) + "\n")
    return run, run / "model.crm", data


CASES = {
    # name: (argv, the input it would have destroyed)
    "export onto its model": (["export", "{model}", "-o", "{model}"], "model"),
    "export a run folder onto its model": (["export", "{run}", "-o", "{run}/model.crm"], "model"),
    "export onto a link to its model": (["export", "{model}", "-o", "{link_model}"], "model"),
    "predict onto its data": (["predict", "{model}", "{data}", "-o", "{data}"], "data"),
    "predict onto its model": (["predict", "{model}", "{data}", "-o", "{model}"], "model"),
    "predict onto a hard link to its data": (
        ["predict", "{run}", "{data}", "-o", "{hard_data}"],
        "data",
    ),
    "plot onto its model": (["plot", "{model}", "--what", "weights", "-o", "{model}"], "model"),
    "plot onto its data": (
        ["plot", "{run}", "--what", "boundary", "--data", "{data}", "-o", "{link_data}"],
        "data",
    ),
    "train onto its data": (
        ["train", "--data", "{data}", "--out", "{run}", "--force", "--quiet"],
        "data",
    ),
    "train with its checkpoint as its model": (
        ["train", "--data", "moons", "--out", "{run}", "--resume", "{model}", "--quiet"],
        "model",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_command_writes_over_its_own_input(capsys, monkeypatch, files, case):
    """The output that is an input (the same device and inode: directly, through a symbolic or
    hard link, or inside a run folder) is refused before any work, and the input is whole."""
    from chainrule.estimators import Standardized

    run, model, data = files
    (run.parent / "link_model.crm").symlink_to(model)
    (run.parent / "link_data.png").symlink_to(data)
    os.link(data, run.parent / "hard_data.csv")
    if case == "train onto its data":
        (run / "loss.png").symlink_to(data)  # the run folder's plot leads to the data
    names = dict(run=run, model=model, data=data, link_model=run.parent / "link_model.crm")
    names.update(link_data=run.parent / "link_data.png", hard_data=run.parent / "hard_data.csv")
    argv, victim = CASES[case]
    before = {path: path.read_bytes() for path in (model, data)}

    def no_work(*args, **kwargs):
        raise AssertionError("the command started its work")

    monkeypatch.setattr(Standardized, "fit", no_work)
    monkeypatch.setattr("chainrule.persistence.load", no_work)
    monkeypatch.setattr("chainrule.persistence.atomic_write", no_work)
    status, _, err = call(capsys, *(arg.format(**names) for arg in argv))
    assert status == 1, err
    assert "is the same file as the" in err and "give another output" in err, err
    assert f"{names[victim]}" in err, err
    assert {path: path.read_bytes() for path in (model, data)} == before


def test_outputs_may_be_new_files_and_standard_input_is_no_file(tmp_path):
    made = check_outputs([tmp_path / "a.csv", tmp_path / "b.png"], inputs=["-", None, "iris"])
    assert made == [tmp_path / "a.csv", tmp_path / "b.png"]
    with pytest.raises(ValueError, match="is the same file as the output"):
        check_outputs([tmp_path / "a.csv", tmp_path / "x" / ".." / "a.csv"])


# -- point 3: everything that decides whether the model can be saved, before training ---------


def _csv_with_long_names(path, n_columns: int, width: int) -> None:
    """A CSV file of 24 rows whose ``n_columns`` feature names are ``width`` characters long."""
    names = [f"{'c' * (width - 6)}{i:06d}" for i in range(n_columns)]
    lines = [",".join([*names, "y"])]
    for i in range(24):
        lines.append(",".join([str((i * 7 + j) % 5) for j in range(n_columns)] + [str(i % 2)]))
    path.write_text("\n".join(lines) + "\n")


def test_a_model_that_could_not_be_saved_is_refused_before_training(capsys, monkeypatch, tmp_path):
    """Column names too long for the model file's meta (there 260,000 of them against the 10 MiB
    cap, here 40 against a lowered cap): an error before training, and no run folder."""
    from chainrule.estimators import Standardized
    from chainrule.persistence import tensors

    data = tmp_path / "wide.csv"
    _csv_with_long_names(data, n_columns=40, width=400)  # 16 KB of names
    monkeypatch.setattr(tensors, "MAX_META_BYTES", 20_000)

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Standardized, "fit", no_training)
    status, _, err = call(capsys, "train", "--data", data, "--quiet", "--out", tmp_path / "run")
    assert status == 1, err
    assert "the model could not be saved: meta would be" in err
    assert "40 feature names take" in err and "shorten the column names" in err
    assert not (tmp_path / "run").exists()


def test_a_model_under_the_cap_trains_and_saves(capsys, monkeypatch, tmp_path):
    """The check leaves room for what the model adds, and no more than a model needs: names
    that fit with that room train and save under the same lowered cap."""
    from chainrule.persistence import tensors

    data = tmp_path / "wide.csv"
    _csv_with_long_names(data, n_columns=10, width=400)  # 4 KB of names
    monkeypatch.setattr(tensors, "MAX_META_BYTES", 20_000)
    status, _, err = call(capsys, "train", "--data", data, "--quiet", "--out", tmp_path / "run",
                          "--epochs", "2")  # fmt: skip
    assert status == 0, err
    assert cr.load(tmp_path / "run" / "model.crm").info["features"][0].endswith("000000")


@pytest.mark.parametrize("hidden", ["4", "4,4,4,4,4,4,4,4"])
def test_the_room_left_covers_what_a_saved_model_adds(capsys, tmp_path, hidden):
    """The measured meta of a saved model (safetensors' ``__metadata__``), less the data's
    description that the check sees, fits in the room the check leaves."""
    status, _, err = call(capsys, "train", "--data", "wine", "--hidden", hidden, "--epochs", "2",
                          "--quiet", "--out", tmp_path)  # fmt: skip
    assert status == 0, err
    with safetensors.safe_open(tmp_path / "model.crm", "np") as f:
        raw = f.metadata()["chainrule"]
    info = json.loads(raw)["info"]
    seen = len(json.dumps({"kind": "Standardized", "info": info}))
    n_layers = hidden.count(",") + 2
    assert len(raw) - seen <= META_ROOM_BASE + META_ROOM_PER_LAYER * n_layers
