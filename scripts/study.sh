#!/usr/bin/env bash
# Sets up the machine, then runs the whole study: `dvc repro`, with the
# trainings two at a time (scripts/repro_parallel.py; plain `dvc repro` gives
# the same results one stage at a time).
#
#   bash scripts/study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The stages run as `python -m stages.<name>`: the environment's Python.
source .venv/bin/activate
python scripts/repro_parallel.py "$@"
dvc metrics show
