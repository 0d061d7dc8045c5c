"""Sphinx configuration: the API reference is built from the numpydoc docstrings.

Build with ``nox -s docs`` (warnings are errors) or
``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from _api import write_api_pages  # noqa: E402

import agnostic_losses  # noqa: E402

project = "agnostic_losses"
author = "agnostic_losses developers"
copyright = "agnostic_losses developers"
# The documentation is versioned with the package: one build per release.
release = agnostic_losses.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]
# Markdown pages include README parts; "##" headings become anchors for cross-page links.
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc Parameters sections say it, with shapes
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "furo"
html_title = f"agnostic_losses {release}"
html_static_path = []


def setup(app):
    # The API pages list every public name (grouped by surface and family, from the registry),
    # so a new loss appears without editing the docs.
    write_api_pages(HERE / "api")
