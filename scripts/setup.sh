#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for the study: the real Fashion-MNIST from
# Debian's dataset-fashion-mnist package (where apt is available), and the
# pinned requirements in a virtual environment .venv/. Safe to run again.
#
#   bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
  if [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
    # Without the package the fetch stage downloads the official files instead.
    $sudo apt-get update -qq && $sudo apt-get install -y -qq dataset-fashion-mnist \
      || echo "setup: dataset-fashion-mnist not installed; the fetch stage will download the data"
  fi
fi

python3 -m venv .venv
# Reinstall only when requirements.txt changed since the last setup.
if ! cmp -s requirements.txt .venv/requirements.installed; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  cp requirements.txt .venv/requirements.installed
fi
echo "setup: ready (.venv/bin/python: $(.venv/bin/python --version))"
