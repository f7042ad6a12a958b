"""What ``chainrule train`` checks before it trains (:mod:`chainrule.cli.preflight`): a bad output
or data is found before any training."""

from __future__ import annotations

import pytest

from commands import call


@pytest.mark.parametrize("case", ["out_is_a_file", "nan_in_data", "resume_is_a_directory"])
def test_bad_output_or_data_is_found_before_training(capsys, monkeypatch, tmp_path, case):
    from chainrule.estimators import Standardized

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Standardized, "fit", no_training)
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "1,2,0\n3,4,1\n5,6,0\n7,8,1\n" * 5)
    args = ["train", "--data", data, "--quiet", "--out", tmp_path / "run"]
    if case == "out_is_a_file":
        (tmp_path / "file").write_text("x")
        args[-1], match = tmp_path / "file", "is a file"
    elif case == "nan_in_data":
        data.write_text("a,b,y\n1,2,0\n3,nan,1\n" + "5,6,0\n7,8,1\n" * 10)
        match = "line 3: column 'b' holds a missing value"
    else:
        (tmp_path / "ckpt").mkdir()
        args += ["--resume", tmp_path / "ckpt"]
        match = "is a directory"
    status, _, err = call(capsys, *args)
    assert status == 1 and match in err, err
