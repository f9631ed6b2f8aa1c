"""Pins for the lowest-versions CI job: each ``name>=X`` requirement in pyproject.toml as ``name==X``.

The lower bounds are claims ("works from X on"); this job installs exactly those versions and runs
the tests, so a bound that is too low fails CI instead of a user's fresh install. torch is left out:
the only CPU wheel CI can install is the one ``.ci/run`` pins.

    python .ci/lowest.py test > constraints.txt     # the core dependencies and the `test` extra
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
for requirement in requirements:
    spec, _, marker = requirement.partition(";")
    match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,\s]*)", spec)
    if match and match.group(1) != "torch":
        print(f"{match.group(1)}=={match.group(2)}" + (f"; {marker.strip()}" if marker else ""))
