#!/usr/bin/env bash
# Sets up the machine, then checks the code with ruff (lint and formatting) and runs the
# whole test suite: the quick tier and the slow one (end-to-end `dvc repro` on tiny
# data, whole trainings). The quick tier alone:
#   .venv/bin/python -m pytest -m "not slow" tests
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest tests -q "$@"
