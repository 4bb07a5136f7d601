#!/usr/bin/env bash
# Sets up the machine, then runs the test suite (unit tests and a tiny end-to-end `dvc repro`).
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
.venv/bin/python -m pytest tests -q "$@"
