"""The playground's learning-rate schedule: the rate of each epoch from the page's settings
``schedule`` and ``schedule_epochs`` (:class:`chainrule.training.LearningRateSchedule`), and
what the derivation view shows of it.

The page trains without an end, so the cosine restarts every ``schedule_epochs`` epochs
(SGDR), the step schedule halves the rate every ``schedule_epochs`` epochs, and the warm-up
ramps it up over the first ``schedule_epochs`` epochs.

>>> view = schedule_view({"schedule": "cosine", "schedule_epochs": 4, "learning_rate": 0.1}, 2)
>>> view["rate"], view["numbers"]
(0.05, 'eta_0 = 0.1, T = 4, epoch e = 2, k = 2: eta_2 = 0.05')
"""

from __future__ import annotations

from typing import Any

from chainrule.training import LearningRateSchedule

#: the schedules the page offers, and each one's formula as the derivation view writes it
SCHEDULES = {
    "constant": "eta_e = eta_0",
    "cosine": "eta_e = eta_0 (1 + cos(pi k / T)) / 2, k = e mod T (restarts every T epochs)",
    "step": "eta_e = eta_0 0.5^floor(e / T) (halved every T epochs)",
    "warmup": "eta_e = eta_0 (e + 1) / (T + 1) for e < T, then eta_0 (linear warm-up)",
}
#: the step schedule's factor
STEP_FACTOR = 0.5


def make_schedule(config: dict[str, Any]) -> LearningRateSchedule:
    """The schedule of the settings ``config``."""
    kind, T, eta_0 = config["schedule"], config["schedule_epochs"], config["learning_rate"]
    if kind == "warmup":
        return LearningRateSchedule("constant", eta_0, warmup_epochs=T)
    if kind == "cosine":
        return LearningRateSchedule("cosine", eta_0, cosine_epochs=T, restart_mult=1)
    return LearningRateSchedule(kind, eta_0, step_epochs=T, step_factor=STEP_FACTOR)


def schedule_view(config: dict[str, Any], epoch: int) -> dict[str, Any]:
    """The schedule's name, formula and numbers at ``epoch``, and the rate ``eta_e``."""
    kind, T = config["schedule"], config["schedule_epochs"]
    rate = make_schedule(config).rate(epoch)
    k = epoch % T if kind == "cosine" else epoch
    shown = f"eta_0 = {config['learning_rate']:g}"
    if kind != "constant":
        shown += f", T = {T}, epoch e = {epoch}" + (f", k = {k}" if kind == "cosine" else "")
    return {
        "name": kind,
        "formula": SCHEDULES[kind],
        "numbers": f"{shown}: eta_{epoch} = {rate:.6g}",
        "rate": rate,
    }
