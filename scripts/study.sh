#!/usr/bin/env bash
# Sets up the machine, then runs the whole study: `dvc repro`.
#
#   bash scripts/study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/dvc repro "$@"
.venv/bin/dvc metrics show
