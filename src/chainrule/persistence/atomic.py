"""Safe writes: a regular file replaced atomically, or left as it was.

:func:`atomic_write` writes to a temporary file ``.NAME.XXXXXXXX.tmp`` beside the target,
flushes it to disk, gives it the target's mode and renames it over the target. It writes only
regular files: a directory, device, FIFO or socket at the target is refused, and a symbolic
link is followed, so that the file it points to is replaced and the link stays. A temporary
file never outlives a failed save; one left by a killed save is removed by the next save of
the same target (each writer holds a lock on its temporary, so a live one is never removed).

This module imports no numpy: the command line checks its output paths with it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover (not POSIX: stale temporaries are not cleaned)
    fcntl = None

__all__ = ["atomic_write", "check_target", "file_kind", "remove_stale_temporaries"]

#: the longest file name (in bytes) that common file systems take
_NAME_MAX = 255

_KINDS = {
    stat.S_ISDIR: "a directory",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISSOCK: "a socket",
}


def check_target(path: str | os.PathLike) -> Path:
    """The regular file that writing ``path`` replaces or creates, symbolic links followed.

    Raises
    ------
    IsADirectoryError, ValueError
        If ``path`` is a directory (or ends with a slash), or a device, FIFO or socket.
    PermissionError
        If the file is read-only (writable by no one, or not by this user), or the directory
        that would hold it is not writable.
    FileNotFoundError, NotADirectoryError, OSError
        If ``path`` is empty, its directory is missing, or it is a symbolic link loop.
    """
    name = os.fspath(path)
    if not name:
        raise FileNotFoundError("an empty path names no file to write")
    if name.endswith(("/", os.sep)):
        raise IsADirectoryError(f"{name} ends with a slash, so it names a folder, not a file")
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(e.errno, f"cannot write {name}: it is a symbolic link loop") from None
        raise
    if mode is not None:
        kind = file_kind(mode)
        if kind is not None:
            error = IsADirectoryError if kind == "a directory" else ValueError
            raise error(f"{name} is {kind}; chainrule writes only regular files")
        if not mode & 0o222 or not os.access(target, os.W_OK):
            raise PermissionError(f"{name} is read-only; make it writable to replace it")
    directory = target.parent
    if not directory.is_dir():
        if directory.exists():
            raise NotADirectoryError(f"cannot write {name}: {directory} is a file")
        raise FileNotFoundError(f"cannot write {name}: no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {name}: {directory} is not writable")
    return target


def file_kind(mode: int) -> str | None:
    """What a file of ``st_mode`` ``mode`` is ("a directory", "a FIFO (named pipe)", ...), or
    None for a regular file."""
    for test, kind in _KINDS.items():
        if test(mode):
            return kind
    return None


def _temporary_pattern(target: Path) -> tuple[str, re.Pattern]:
    """The prefix of ``target``'s temporaries, and the pattern of their names.

    The prefix is ``.NAME.``, or for a name with no room for the 14 more bytes, its first 50
    characters and a hash of the whole name: no two targets share a prefix.
    """
    name = target.name
    encoded = os.fsencode(name)
    if len(encoded) > _NAME_MAX - len("..12345678.tmp"):
        name = f"{name[:50]}~{hashlib.sha256(encoded).hexdigest()[:16]}"
    prefix = f".{name}."
    return prefix, re.compile(re.escape(prefix) + r"[a-z0-9_]{8}\.tmp\Z")


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporaries of ``path`` that no live writer holds; returns those removed.

    Only regular files are temporaries: a link, FIFO, socket or folder of that name is left.
    """
    target = Path(os.path.realpath(path))
    _, pattern = _temporary_pattern(target)
    removed = []
    if fcntl is None:  # pragma: no cover
        return removed
    try:
        names = [name for name in os.listdir(target.parent) if pattern.match(name)]
    except OSError:
        return removed
    for name in names:
        candidate = target.parent / name
        with contextlib.suppress(OSError):
            # non-blocking: a FIFO of that name must not make the save wait for a writer
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue  # not a temporary of ours
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a live writer: skip
                os.unlink(candidate)
                removed.append(candidate)
            finally:
                os.close(fd)
    return removed


def _locked_temporary(target: Path):
    """A new temporary file beside ``target``, locked for as long as it is open."""
    prefix, _ = _temporary_pattern(target)
    while True:
        tmp = tempfile.NamedTemporaryFile(  # closed by atomic_write, before the rename
            dir=target.parent, prefix=prefix, suffix=".tmp", delete=False
        )
        if fcntl is None:  # pragma: no cover
            return tmp
        fcntl.flock(tmp.fileno(), fcntl.LOCK_EX)
        # a cleaner may have removed it between its creation and the lock: then take another
        with contextlib.suppress(FileNotFoundError):
            if os.stat(tmp.name).st_ino == os.fstat(tmp.fileno()).st_ino:
                return tmp
        tmp.close()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` only once it is complete and flushed to disk.

    The target keeps its mode (a new one gets ``0666`` minus the umask); on any error,
    ``KeyboardInterrupt`` included, the temporary file is removed and the target is left as it
    was. See the module's description for what is refused.
    """
    target = check_target(path)
    remove_stale_temporaries(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode) & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # the mode a plain open() would give
    tmp = _locked_temporary(target)
    try:
        with tmp:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
            os.chmod(tmp.name, mode)
            os.replace(tmp.name, target)  # while locked, so no cleaner takes it for stale
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    _fsync_directory(target.parent)


def _umask() -> int:
    """The process umask, read without changing it (Linux); 0o022 where it cannot be read."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
