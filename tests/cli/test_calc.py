"""``chainrule calc`` (:mod:`chainrule.cli.calc`)."""

from __future__ import annotations

from commands import run


def test_calc():
    assert run("calc", "derivative", "x**5").stdout.strip() == "5*x**4"
    assert run("calc", "derivative", "x**5", "--at", "x=2").stdout.strip() in ("80", "80.0")
    critical = run("calc", "critical", "x**3 + y**3 - 3*x*y").stdout
    assert "saddle at x=0, y=0" in critical and "minimum at x=1, y=1" in critical
    descent = run("calc", "descent", "(x-3)**2 + (y+1)**2", "--start", "x=0,y=0").stdout
    assert "gradient norm below tol" in descent and "x = 3" in descent
    hostile = run("calc", "derivative", "__import__('os').system('true')", check=False)
    assert hostile.returncode == 1 and "Traceback" not in hostile.stderr
