"""Sphinx configuration of chainrule's documentation site.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` after
``pip install -e ".[docs]"``: the API reference from the docstrings (numpydoc), the Markdown
pages (myst-parser), ``examples/`` as an executed gallery (sphinx-gallery) and the derivation's
equations in MathJax, each linked to the source line that computes it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib
from docutils import nodes
from sphinx.transforms import SphinxTransform

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from chainrule import __version__  # noqa: E402
from chainrule.estimators.params import DOCS_URL  # noqa: E402

#: the repository's files, as ``[project.urls]`` names them
SOURCE_URL = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"]

project = "chainrule"
author = "chainrule's authors"
copyright = "chainrule's authors"
release = version = __version__
html_baseurl = DOCS_URL  # the HTML repr of the estimators links here

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
smartquotes = False  # the parameters' types as the docstrings write them (the HTML repr's links)
html_static_path: list[str] = []

# the estimators' pages: each parameter of the numpydoc "Parameters" section
autodoc_typehints = "none"  # numpydoc's sections say the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# the Markdown pages: $...$ math, heading anchors for links such as performance.md#serving
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# examples/ run at every build, as a gallery (each takes a second or two)
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",  # execute every example
    "download_all_examples": False,
}

#: ``src/chainrule/engine/reference.py:36`` in a page: a link to that line of the source
SOURCE_LINE = re.compile(r"^(src/chainrule/[\w/]+\.py):(\d+)$")

#: the derivation's ASCII equations, term by term in LaTeX
_LATEX = [
    (
        re.compile(r"\bd(\w+(?:\^\w+)?(?:_\w+)?)/d(\w+(?:\^[\w()+-]+)?)"),
        r"\\partial \1/\\partial \2",
    ),
    (re.compile(r"\^\(([^)]*)\)(T?)"), r"^{(\1)\2}"),
    (re.compile(r"\b(sigma|delta|Delta|alpha|beta|lambda|eta)(?![a-zA-Z])"), r"\\\1"),
    (re.compile(r"\bsum_"), r"\\sum_"),
    (re.compile(r" o "), r" \\odot "),
    (re.compile(r"\|\|"), r"\\|"),
    (re.compile(r"<-"), r"\\leftarrow"),
]


def latex(ascii_math: str) -> str:
    """``dC/dW^m = delta^m a^(m-1)T`` as ``\\partial C/\\partial W^m = \\delta^m a^{(m-1)T}``."""
    for pattern, replacement in _LATEX:
        ascii_math = pattern.sub(replacement, ascii_math)
    return ascii_math


class DerivationLinksAndMath(SphinxTransform):
    """In the derivation, each ``src/...py:N`` becomes a link to line ``N`` of the source, and
    each equation in the first column of its tables (an inline literal with ``=``) MathJax."""

    default_priority = 400

    def apply(self) -> None:
        if self.env.docname != "derivation":
            return
        for literal in list(self.document.findall(nodes.literal)):
            text = literal.astext()
            match = SOURCE_LINE.match(text)
            if match:
                reference = nodes.reference("", "", refuri=f"{SOURCE_URL}{match[1]}#L{match[2]}")
                reference += literal.deepcopy()
                literal.replace_self(reference)
            elif "=" in text and _first_column(literal):
                literal.replace_self(nodes.math(text, latex(text)))


class SpaceBeforeClassifier(SphinxTransform):
    """``<strong>alpha</strong> <span class="classifier">float...`` in a numpydoc entry: a
    space in the text between a parameter's name and its type (the theme draws the colon), so
    that the HTML repr's text fragment ``#:~:text=alpha,-float...`` finds the name as a word
    with its type right after it, as the Text Fragments spec matches them."""

    default_priority = 400

    def apply(self) -> None:
        for classifier in self.document.findall(nodes.classifier):
            term = classifier.parent[classifier.parent.index(classifier) - 1]
            if isinstance(term, nodes.term):
                term += nodes.Text(" ")


def _first_column(node) -> bool:
    entry = node.parent.parent if isinstance(node.parent, nodes.paragraph) else node.parent
    return isinstance(entry, nodes.entry) and entry.parent.index(entry) == 0


#: a Markdown link out of docs/ (``](../benchmarks/README.md)``): to the file in the repository
OUTSIDE_LINK = re.compile(r"\]\(\.\./([^)\s]+)\)")


def link_outside_files(app, docname, source) -> None:
    """Links from a page to the repository's files outside docs/ go to the repository."""
    source[0] = OUTSIDE_LINK.sub(lambda m: f"]({SOURCE_URL}{m[1]})", source[0])


def setup(app):
    app.add_transform(DerivationLinksAndMath)
    app.add_transform(SpaceBeforeClassifier)
    app.connect("source-read", link_outside_files)
