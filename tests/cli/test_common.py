"""What the commands share (:mod:`chainrule.cli.common`): what they write is never one of their
own inputs, nor a model that could not be saved after the training is done (issue 21, points
2 and 3); what they read (CSV files, standard input, run folders) is named when it is bad."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import safetensors
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule import datasets
from chainrule.cli.common import check_outputs
from chainrule.cli.main import main
from chainrule.cli.preflight import META_ROOM_BASE, META_ROOM_PER_LAYER

from commands import CHAINRULE, call, run


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


def test_standard_input_and_run_directories(trained, tmp_path):
    out, _, iris = trained
    text = iris.read_text()
    result = subprocess.run(
        [CHAINRULE, "predict", out, "-"], input=text, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 151
    names = list(load_iris().target_names)  # the model learned integer labels
    for name in names:
        text = text.replace(name, str(names.index(name)))
    result = subprocess.run(
        [CHAINRULE, "evaluate", out, "-", "--target", "species"],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "all accuracy" in result.stdout, result.stderr
    assert "sample 0" in run("explain", out).stdout
    run("plot", out, "--what", "weights", "-o", tmp_path / "w.png")
    assert (tmp_path / "w.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("predict", empty, iris, check=False)
    assert result.returncode == 1 and "without a model.crm" in result.stderr


# -- CSV files (issue 17.4, 17.8) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"a,a,y\n1,2,0\n", "the column name 'a' appears twice"),
        (b"a,b,y\n1,2,0\n3,4,\n", r"bad.csv, line 3: the target 'y' is empty"),
        (b"a,b,y\n1,2,0\n3,1e400,1\n", r"bad.csv, line 3: column 'b' holds '1e400', past the"),
        (b"a,b,y\n1,2,0\n-1e999,1,1\n", r"bad.csv, line 3: column 'a' holds '-1e999', past"),
        (b"a,b,y\n1,2,0\n\n3,NaN,1\n", r"bad.csv, line 4: column 'b' holds a missing value"),
        (b"a,b,y\n1,2,0\n3,4,caf\xe9\n", r"bad.csv, line 3: not UTF-8 text \(byte 0xe9\)"),
    ],
)
def test_bad_csv_files_name_the_file_line_and_column(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        datasets.read_csv(path)


def test_a_latin1_csv_on_the_command_line_names_the_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,b,label\n1,2,caf\xe9\n3,4,th\xe9\n")
    result = run("train", "--data", path, "--quiet", "--out", tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"chainrule train: error: {path}, line 2: not UTF-8 text (byte 0xe9); "
        "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
    )


# -- inputs that are not files, and the size of a CSV file (issue 17 review) ---------------------


def _limited_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway read fails fast


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("command", ["predict", "evaluate", "train"])
def test_a_device_or_fifo_is_not_read_as_a_csv_file(trained, tmp_path, command):
    out, _, _ = trained
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for source in ("/dev/zero", fifo):
        argv = ["train", "--data", source, "--out", tmp_path / "run"]
        if command != "train":
            argv = [command, out, source]
        result = subprocess.run(
            [CHAINRULE, *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_limited_memory,
        )
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"{source} is not a regular file" in result.stderr, result.stderr
        assert "- for standard input" in result.stderr
