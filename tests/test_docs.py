"""The documentation site: the HTML representation of the estimators links to the class's page
and to every parameter's entry there; the site builds without a warning, and the links land;
the tests the pages cite exist where they say."""

from __future__ import annotations

import html
import inspect
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import tomllib
from numpydoc.docscrape import NumpyDocString
from sklearn.utils import estimator_html_repr

from chainrule import MLPClassifier, MLPRegressor
from chainrule.estimators.params import DOCS_URL

from conftest import needs_chromium

ROOT = Path(__file__).resolve().parents[1]
ESTIMATORS = [MLPClassifier, MLPRegressor]

#: a parameter's link in the HTML repr: the class's page, then a text fragment ``name,-type``
PARAM_LINK = re.compile(r'class="param-doc-link"[^>]*href="([^"]+)">\s*([^<\s]+)', re.S)


def page(cls) -> str:
    """The address of ``cls``'s page on the site."""
    return f"{DOCS_URL}api/chainrule.{cls.__name__}.html"


def parameter_links(cls) -> dict[str, str]:
    """``{parameter: link}`` of the HTML repr of a default ``cls``."""
    links = {
        name: html.unescape(url) for url, name in PARAM_LINK.findall(estimator_html_repr(cls()))
    }
    assert links, "the HTML repr has no parameter links"
    return links


def fragment(link: str, cls) -> tuple[str, str]:
    """The text fragment ``(name, type)`` of a parameter link to ``cls``'s page."""
    address, sep, text = link.partition("#:~:text=")
    assert sep and address == page(cls) and "#" not in address, link
    name, _, suffix = text.partition(",-")
    # "-", "," and "&" are the directive's syntax: unescaped in a term, they break the link
    assert not re.search(r"[-,&]", name + suffix), link
    return unquote(name), unquote(suffix)


def test_the_base_address_is_set_once_and_named_in_the_project_urls():
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Documentation"] == DOCS_URL
    assert DOCS_URL.startswith("https://") and DOCS_URL.endswith("/")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_html_repr_links_the_class_to_its_page(cls):
    assert cls()._get_doc_link() == page(cls)
    assert f'href="{page(cls)}"' in estimator_html_repr(cls())


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_links_to_its_own_entry_in_the_docstring(cls):
    """Each link's text fragment is the ``name`` and the type of the parameter's own numpydoc
    entry, which the API page renders as ``<strong>name</strong><span>type</span>``."""
    entries = {p.name: p.type for p in NumpyDocString(inspect.getdoc(cls))["Parameters"]}
    links = parameter_links(cls)
    assert sorted(links) == sorted(cls().get_params())  # every parameter, 33 of them
    for name, link in links.items():
        assert fragment(link, cls) == (name, entries[name].replace("`", ""))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as the README says (``-W``: a warning fails the build)."""
    pytest.importorskip("sphinx")
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", "docs", str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_link_of_the_html_repr_lands_on_the_built_page(site, cls):
    built = (site / page(cls).removeprefix(DOCS_URL)).read_text()
    assert f'id="chainrule.{cls.__name__}"' in built
    # the text fragment ``name,-type`` finds ``name`` as a word with only whitespace before
    # ``type`` (the Text Fragments spec): the entry's text is "name type" (the colon is CSS)
    terms = {
        (html.unescape(name), html.unescape(kind))
        for name, kind in re.findall(
            r'<dt><strong>([^<]+)</strong>\s+<span class="classifier">([^<]*)</span></dt>', built
        )
    }
    for link in parameter_links(cls).values():
        assert fragment(link, cls) in terms, link


@pytest.mark.slow
def test_the_derivation_renders_its_equations_and_links_them_to_their_lines(site):
    built = (site / "derivation.html").read_text()
    assert built.count('class="math notranslate nohighlight"') >= 10
    assert r"\partial C/\partial W^m" in built
    lines = re.findall(r'href="[^"]*/blob/main/(src/chainrule/[\w/]+\.py)#L(\d+)"', built)
    assert len(lines) >= 8
    for path, line in lines:  # each link lands on a line of the file
        assert 1 <= int(line) <= len((ROOT / path).read_text().splitlines()), (path, line)


@pytest.mark.slow
def test_the_gallery_runs_the_examples(site):
    for example in ("xor", "calculus_tour"):
        built = (site / "auto_examples" / f"{example}.html").read_text()
        assert "sphx-glr-script-out" in built  # the example's printed output


#: the entry of parameter ``name`` lies within the viewport
IN_VIEW = """name => [...document.querySelectorAll("dt > strong")].some(strong => {
    const box = strong.getBoundingClientRect();
    return strong.textContent === name && box.top >= 0 && box.bottom <= window.innerHeight;
})"""


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_chromium_scrolls_each_parameter_link_to_its_entry(site, cls, chromium):
    """Opened in Chromium, each link of the HTML repr shows its parameter's entry; a fragment
    whose text is not on the page leaves the page at its top."""
    built = (site / page(cls).removeprefix(DOCS_URL)).as_uri()
    view = chromium.new_page(viewport={"width": 1000, "height": 500})
    missed = []
    for name, link in parameter_links(cls).items():
        view.goto("about:blank")
        view.goto(built + "#" + link.partition("#")[2])
        view.wait_for_function("() => document.readyState === 'complete'")
        if not view.evaluate(IN_VIEW, name):
            missed.append(name)
    view.goto("about:blank")
    view.goto(built + "#:~:text=no_such_parameter,-float")
    at_top = view.evaluate("window.scrollY") == 0
    view.close()
    assert missed == []
    assert at_top


# -- this page's promises ---------------------------------------------------------------------


def test_every_test_this_page_names_exists():
    """docs/reliability.md names the test that holds each promise: each must be defined in
    tests/ (it named a test removed when the behaviour changed), and each file it names, with
    the tests it names there, must exist (a test file moved or a test moved to another file)."""
    tests = ROOT / "tests"
    page = (tests.parent / "docs" / "reliability.md").read_text(encoding="utf-8")

    def defined_in(source: Path) -> set[str]:
        return set(re.findall(r"^def (test_\w+)", source.read_text(encoding="utf-8"), re.M))

    defined = set().union(*(defined_in(source) for source in tests.rglob("*.py")))
    named = set(re.findall(r"\btest_\w+", page)) - {p.stem for p in tests.rglob("test_*.py")}
    assert named and named <= defined, sorted(named - defined)
    files = set(re.findall(r"\b(tests/[\w/]+\.py)", page))
    missing = sorted(f for f in files if not (tests.parent / f).is_file())
    assert files and not missing, missing
    cited = set(re.findall(r"\b(tests/[\w/]+\.py)::(test_\w+)", page))
    elsewhere = sorted(f"{f}::{t}" for f, t in cited if t not in defined_in(tests.parent / f))
    assert cited and not elsewhere, elsewhere
