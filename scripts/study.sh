#!/usr/bin/env bash
# Sets up the machine, then runs the whole study: `dvc repro`.
#
#   bash scripts/study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The stages run as `python -m stages.<name>`: the environment's Python.
source .venv/bin/activate
dvc repro "$@"
dvc metrics show
