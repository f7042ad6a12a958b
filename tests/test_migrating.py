"""The Python examples of docs/migrating.md run as written (each block in a fresh namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "migrating.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 2  # the import line, and the validation set's example


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_example_runs(code):
    exec(compile(code, str(PAGE), "exec"), {"__name__": "migrating_example"})


def test_each_addition_beyond_scikit_learn_has_its_subsection():
    """Issue 26's additions are each listed under 'Additions beyond scikit-learn'."""
    additions = PAGE.read_text().split("## Additions beyond scikit-learn")[1].split("\n## ")[0]
    headings = re.findall(r"^### (.+)$", additions, flags=re.M)
    for name in ("validation set", "schedules", "Weight decay", "L1", "Dropout"):
        assert any(name in heading for heading in headings), name
