"""Symbolic work under a wall-clock budget: done in a child process, killed when time is up.

One sympy call (a ``solveset``, a ``simplify``, a ``limit``) can run for minutes and cannot
be interrupted from inside, so a budget checked between calls does not hold.  Here the work
runs in a child process (``fork`` where the platform has it, else ``spawn``) that sends its
results back through a pipe, one message per result:

* ``("item", value)`` for each result, as soon as it is ready;
* ``("error", exception)`` when the work raised (the parent raises it again);
* ``("done", None)`` at the end.

The parent waits at most until the :class:`~chainrule.calculus.limits.Deadline`, then kills
the child and raises :class:`~chainrule.calculus.limits.OverBudget`; results already sent
are kept (:func:`stream`).  The child never writes anything else: the user's files and
streams are the parent's.  A daemonic process (a ``multiprocessing.Pool`` worker) may not
have children: there the work runs in the process itself, and the budget cannot stop it.

>>> from chainrule.calculus.limits import Deadline
>>> run(Deadline(10.0), "adding", sum, [1, 2, 3])
6
"""

from __future__ import annotations

import multiprocessing
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chainrule.calculus.limits import Deadline, OverBudget

__all__ = ["run", "stream", "warm_with"]

#: The longest single wait (a budget of ``inf`` waits for ever, this long at a time).
_LONGEST = 1e6
_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


#: A small input for each job function, run once in this process before its first child.
_SMALL: dict[Callable[..., Any], list[tuple[Any, ...]]] = {}


def warm_with(func: Callable[..., Any], *args: Any) -> None:
    """Run ``func(*args)`` (a small input) in this process before ``func``'s first child, so
    that sympy's lazy imports and first-use set-up happen once, not again in every child."""
    _SMALL.setdefault(func, []).append(args)


def _child(send: Any, func: Callable[..., Any], items: list[Any], each: bool) -> None:
    """Send ``func(item)`` for each item (or ``func(*items)`` once), then ``done``."""
    try:
        if each:
            for item in items:
                send.send(("item", func(item)))
        else:
            send.send(("item", func(*items)))
        message: tuple[str, Any] = ("done", None)
    except BaseException as exc:  # every failure goes back to the parent
        message = ("error", exc)
    try:
        send.send(message)
    except Exception as exc:  # an exception that cannot be pickled: its text goes back
        send.send(("error", RuntimeError(f"{type(message[1]).__name__}: {message[1]} ({exc})")))
    send.close()


def _messages(deadline: Deadline, what: str, func: Any, items: list, each: bool) -> Iterator:
    """The child's messages, until ``done``; OverBudget once the deadline passes."""
    if deadline.remaining() <= 0:
        raise OverBudget(deadline.spent(what))
    if multiprocessing.current_process().daemon:  # it may not have children: no bound
        yield from (map(func, items) if each else [func(*items)])
        return
    for small in _SMALL.pop(func, []):
        func(*small)
    context = multiprocessing.get_context(_METHOD)
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, func, items, each), daemon=True)
    for stream_ in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
        try:
            stream_.flush()
        except (AttributeError, OSError, ValueError):
            pass
    with warnings.catch_warnings():
        # Python 3.12+ warns on fork in a threaded process; the child runs only sympy
        # and is killed at the deadline, so a lock left held cannot hang the caller.
        warnings.simplefilter("ignore", DeprecationWarning)
        child.start()
    send.close()
    try:
        while True:
            wait = deadline.remaining()
            if wait <= 0 and not receive.poll():
                raise OverBudget(deadline.spent(what))
            if not receive.poll(min(max(wait, 0.0), _LONGEST)):
                continue
            try:
                kind, value = receive.recv()
            except EOFError:
                child.join(1.0)
                raise RuntimeError(
                    f"{what} failed: its worker process ended without an answer "
                    f"(exit code {child.exitcode})"
                ) from None
            except Exception as exc:  # an answer that cannot be unpickled here
                raise RuntimeError(f"{what} failed: its answer could not be read ({exc})") from exc
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()


def run(deadline: Deadline, what: str, func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)``, computed in a child process within ``deadline``.

    Raises :class:`OverBudget` naming ``what`` when the deadline passes first, and whatever
    ``func`` raised otherwise.  ``func`` must be a module-level function and its arguments
    and result picklable (sympy expressions are).
    """
    for value in _messages(deadline, what, func, list(args), each=False):
        return value
    raise RuntimeError(f"{what} failed: its worker process sent no answer")  # pragma: no cover


def stream(
    deadline: Deadline, what: str, func: Callable[[Any], Any], items: Iterable[Any]
) -> list[Any]:
    """``[func(item) for item in items]``, in a child process; the items not done by the
    deadline are ``None`` (no error)."""
    items = list(items)
    out: list[Any] = []
    try:
        for value in _messages(deadline, what, func, items, each=True):
            out.append(value)
    except OverBudget:
        pass
    return out + [None] * (len(items) - len(out))
