"""Safe writes (:mod:`chainrule.persistence.atomic`): a failed, interrupted or killed save leaves
the old file whole and no temporary; only regular files are written, through symbolic links
too; concurrent saves leave one whole file."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.persistence import (
    atomic,
    load,
    read_archive,
    save,
    write_archive,
)

from model_files import SRC, assert_same_network

# -- atomic saves ------------------------------------------------------------------------------


def failing_midway(monkeypatch, error: BaseException) -> list[int]:
    """Make the writer's safe file write half of what it is given, then raise ``error``;
    returns the list of bytes written before it did."""
    from contextlib import contextmanager

    from chainrule.persistence import writer

    real, written = writer.atomic_write, []

    class HalfThenFail:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            written.append(self.f.write(bytes(data)[: len(data) // 2]))
            self.f.flush()
            raise error

    @contextmanager
    def half_then_fail(path):
        with real(path) as f:
            yield HalfThenFail(f)

    monkeypatch.setattr(writer, "atomic_write", half_then_fail)
    return written


def test_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "m.crm"
    arrays = {f"a{i}": np.full(1000, float(i)) for i in range(3)}
    write_archive(target, {"kind": "K", "version": "old"}, arrays)
    written = failing_midway(monkeypatch, OSError("disk full"))
    new = {name: a + 1 for name, a in arrays.items()}
    with pytest.raises(OSError, match="disk full"):
        write_archive(target, {"kind": "K", "version": "new"}, new)
    assert written[0] > 12000  # it did fail after writing the first arrays
    meta, loaded = read_archive(target)
    assert meta["version"] == "old"
    assert all(np.array_equal(loaded[n], a) for n, a in arrays.items())
    assert os.listdir(tmp_path) == ["m.crm"]


def test_interrupted_network_save_keeps_the_old_network(tmp_path, monkeypatch, X):
    old = cr.Network([3, 4, 2], random_state=12)
    save(old, tmp_path / "net.crm")
    failing_midway(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        save(cr.Network([3, 4, 2], random_state=13), tmp_path / "net.crm")
    monkeypatch.undo()
    assert_same_network(old, load(tmp_path / "net.crm"), X)
    assert os.listdir(tmp_path) == ["net.crm"]


def test_saved_file_gets_the_ordinary_permissions(tmp_path):
    save(cr.Network([2, 1], random_state=14), tmp_path / "net.crm")
    mode = (tmp_path / "net.crm").stat().st_mode & 0o777
    assert mode == 0o666 & ~atomic._umask()


# the writer: a process that has imported chainrule forks a child per round, which saves
# ever newer versions of a 3-million-parameter network (theta filled with the version number)
# until the test kills it with SIGKILL
WRITER = """
import os, sys
import numpy as np
import chainrule as cr
from chainrule.persistence import save

path = sys.argv[1]
net = cr.Network([1000, 1500, 1000], random_state=0)
print("ready", flush=True)
for line in sys.stdin:
    version = int(line)
    pid = os.fork()
    if pid == 0:
        try:
            while True:
                version += 1
                net.theta.fill(version)
                save(net, path)
        finally:
            os._exit(1)
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_sigkill_during_save_leaves_a_complete_version(tmp_path):
    path = tmp_path / "big.crm"
    net = cr.Network([1000, 1500, 1000], random_state=0)
    net.theta.fill(0)
    save(net, path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    rng = np.random.default_rng()
    interrupted, previous = 0, 0
    try:
        assert writer.stdout.readline() == "ready\n"
        for round_ in range(30):  # 5 rounds, and more until a kill has landed mid-save
            if round_ >= 5 and interrupted:
                break
            first = 1000 * (round_ + 1)
            writer.stdin.write(f"{first}\n")
            writer.stdin.flush()
            pid = int(writer.stdout.readline())
            time.sleep(rng.uniform(0.15, 0.4))
            os.kill(pid, signal.SIGKILL)
            assert writer.stdout.readline() == "reaped\n"
            loaded = load(path)  # must be a complete file: the old one or a newer one
            version = loaded.theta[0]
            assert np.all(loaded.theta == version)
            # killed before its first save finished, the writer leaves the previous version
            assert version == previous or first < version < first + 1000
            previous = version
            temporaries = [p for p in os.listdir(tmp_path) if p != "big.crm"]
            assert all(p.startswith(".big.crm.") and p.endswith(".tmp") for p in temporaries)
            interrupted += len(temporaries)  # a kill mid-save leaves its temporary behind
            save(loaded, path)  # the next save of the same target removes it
            assert os.listdir(tmp_path) == ["big.crm"]
    finally:
        writer.kill()
        writer.wait()
    assert interrupted >= 1  # at least one kill did land in the middle of a save


# -- only regular files are written (issue 17.1) -----------------------------------------------


def test_save_refuses_a_directory_fifo_or_socket_and_leaves_it(tmp_path):
    import socket

    net = cr.Network([2, 1], random_state=0)
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        for name, kind in [("dir", "directory"), ("fifo", "FIFO"), ("sock", "socket")]:
            with pytest.raises((ValueError, IsADirectoryError), match=kind):
                save(net, tmp_path / name)
        assert (tmp_path / "dir").is_dir()
        assert stat.S_ISFIFO((tmp_path / "fifo").stat().st_mode)
        assert stat.S_ISSOCK((tmp_path / "sock").stat().st_mode)
        assert sorted(os.listdir(tmp_path)) == ["dir", "fifo", "sock"]  # no temporary left
    finally:
        server.close()


def test_a_device_is_refused_before_anything_is_written():
    # checked without saving: a broken check must not replace /dev/null
    with pytest.raises(ValueError, match="character device; chainrule writes only regular"):
        atomic.check_target("/dev/null")


def test_save_follows_a_symlink_and_keeps_the_mode(tmp_path, X):
    real = tmp_path / "models" / "real.crm"
    real.parent.mkdir()
    save(cr.Network([3, 2], random_state=1), real)
    real.chmod(0o600)
    link = tmp_path / "link.crm"
    link.symlink_to(real)
    net = cr.Network([3, 4, 2], random_state=2)
    save(net, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert_same_network(net, load(real), X)
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert os.listdir(real.parent) == ["real.crm"]


def test_stale_temporaries_are_removed_by_the_next_save_but_not_live_ones(tmp_path):
    import fcntl

    target = tmp_path / "m.crm"
    stale = tmp_path / ".m.crm.abcd1234.tmp"
    live = tmp_path / ".m.crm.live5678.tmp"
    other = tmp_path / ".m.crm.notes"  # not a temporary's name: never touched
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a writer still at work
        save(cr.Network([2, 1], random_state=3), target)
        assert sorted(os.listdir(tmp_path)) == sorted(["m.crm", live.name, other.name])


def killed_save(monkeypatch, path) -> str:
    """A save of ``path`` that dies (as if killed) once its temporary is written: its name."""

    def die(*args):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(atomic.os, "replace", die)
        m.setattr(atomic.os, "unlink", lambda *args: None)  # no clean-up: killed
        with pytest.raises(KeyboardInterrupt):
            save(cr.Network([2, 1], random_state=0), path)
    (left,) = [p for p in os.listdir(path.parent) if p.endswith(".tmp")]
    return left


def test_stale_temporaries_of_another_long_named_target_are_left_alone(tmp_path, monkeypatch):
    # two names that agree in their first 100 characters, where temporaries' names are cut
    mine, other = tmp_path / ("m" * 120 + "-a.crm"), tmp_path / ("m" * 120 + "-b.crm")
    left = killed_save(monkeypatch, other)
    save(cr.Network([2, 1], random_state=1), mine)
    assert sorted(os.listdir(tmp_path)) == sorted([left, mine.name])  # `other`'s is kept
    save(cr.Network([2, 1], random_state=2), other)  # until `other` is saved again
    assert sorted(os.listdir(tmp_path)) == sorted([mine.name, other.name])
    # the longest names a file system takes have temporaries too, and clean them up
    longest = tmp_path / ("z" * 255)
    left = killed_save(monkeypatch, longest)
    save(cr.Network([2, 1], random_state=3), longest)
    assert left not in os.listdir(tmp_path) and longest.is_file()


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("", FileNotFoundError, "empty path"),
        ("new.crm/", IsADirectoryError, "ends with a slash"),
        ("old.crm/", IsADirectoryError, "ends with a slash"),
        ("loop", OSError, "symbolic link loop"),
    ],
)
def test_a_path_that_cannot_name_a_regular_file_is_refused(
    tmp_path, monkeypatch, name, error, match
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.crm").write_bytes(b"old")
    (tmp_path / "loop").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(error, match=match):
        save(cr.Network([2, 1], random_state=0), name)
    assert sorted(os.listdir(tmp_path)) == before
    assert (tmp_path / "old.crm").read_bytes() == b"old"


def test_a_read_only_file_is_refused_and_kept(tmp_path):
    target = tmp_path / "ro.crm"
    target.write_bytes(b"old")
    target.chmod(0o444)  # no one may write it (root included, who os.access lets write all)
    with pytest.raises(PermissionError, match=r"ro\.crm is read-only"):
        save(cr.Network([2, 1], random_state=0), target)
    assert target.read_bytes() == b"old"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert os.listdir(tmp_path) == ["ro.crm"]


def test_a_folder_you_may_not_write_in_is_refused(tmp_path):
    folder = tmp_path / "ro-dir"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root may create files anywhere, as open() lets it
            save(cr.Network([2, 1], random_state=0), folder / "m.crm")
            assert os.listdir(folder) == ["m.crm"]
        else:
            with pytest.raises(PermissionError, match="ro-dir is not writable"):
                save(cr.Network([2, 1], random_state=0), folder / "m.crm")
            assert os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


def test_a_fifo_named_like_a_temporary_neither_blocks_a_save_nor_is_removed(tmp_path):
    # opening a FIFO to read blocks until someone writes: the cleaner must not wait for it
    os.mkfifo(tmp_path / ".m.crm.abcd1234.tmp")
    (tmp_path / ".m.crm.dir12345.tmp").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    code = "import sys, chainrule as cr; cr.save(cr.Network([2, 1]), sys.argv[1])"
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "m.crm")], env=env, timeout=60
    )  # a save takes well under a second; a blocked one never ends
    assert result.returncode == 0
    assert stat.S_ISFIFO((tmp_path / ".m.crm.abcd1234.tmp").stat().st_mode)
    assert (tmp_path / ".m.crm.dir12345.tmp").is_dir() and (tmp_path / "m.crm").is_file()


def test_concurrent_saves_of_one_target_leave_one_whole_file(tmp_path):
    import threading

    path = tmp_path / "m.crm"
    nets = [cr.Network([5, 40, 3], random_state=k) for k in range(4)]
    save(nets[0], path)
    errors, loaded = [], []

    def writer(net):
        try:
            for _ in range(25):
                save(net, path)
        except Exception as e:  # reported below
            errors.append(e)

    def reader():
        try:
            for _ in range(50):
                loaded.append(load(path).theta)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(net,)) for net in nets]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    thetas = [net.theta for net in nets]
    for theta in [*loaded, load(path).theta]:  # every read saw one whole version
        assert any(np.array_equal(theta, t) for t in thetas)
    assert os.listdir(tmp_path) == ["m.crm"]


def test_checkpoints_and_figures_go_through_the_safe_writer(tmp_path):
    from matplotlib.figure import Figure

    from chainrule.plotting import save_figure

    (tmp_path / "real").mkdir()
    for name in ("fit.ckpt", "loss.png"):
        (tmp_path / "real" / name).write_bytes(b"old")
        (tmp_path / name).symlink_to(tmp_path / "real" / name)
    model = cr.MLPClassifier(hidden_layer_sizes=3, max_iter=2, checkpoint=tmp_path / "fit.ckpt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        model.fit(np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 2)
    save_figure(Figure(), tmp_path / "loss.png")
    for name in ("fit.ckpt", "loss.png"):
        assert (tmp_path / name).is_symlink()  # the link stays; the file it names is new
        assert (tmp_path / "real" / name).read_bytes() != b"old"
    assert load(tmp_path / "real" / "fit.ckpt").n_iter_ == 2
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save_figure(Figure(), tmp_path / "dir.png")
