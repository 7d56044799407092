#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Parses every page of Documentation/ with docutils and fails on any
warning or error: a malformed table, a broken reference, a bad indent.
The toctree directive is Sphinx's; here it is accepted and ignored."""
import glob
import io
import os
import sys

import docutils.core
from docutils.parsers.rst import Directive, directives


class Toctree(Directive):
    has_content = True
    option_spec = {"maxdepth": directives.unchanged, "caption": directives.unchanged}

    def run(self):
        return []


directives.register_directive("toctree", Toctree)

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
bad = 0
pages = sorted(glob.glob(os.path.join(top, "Documentation", "*.rst")))
for page in pages:
    err = io.StringIO()
    with open(page, encoding="utf-8") as f:
        docutils.core.publish_doctree(
            f.read(), source_path=page,
            settings_overrides={"warning_stream": err, "report_level": 2, "halt_level": 5})
    if err.getvalue():
        bad += 1
        sys.stderr.write(err.getvalue())
print(f"check-docs: {len(pages) - bad} of {len(pages)} pages clean")
sys.exit(1 if bad else 0)
