#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for the study: the real Fashion-MNIST from
# Debian's dataset-fashion-mnist package where apt is available, and the pinned
# requirements in a virtual environment .venv/. With --tests, also Debian's
# chromium, with which tests/test_plots_offline.py looks at `dvc plots show`'s
# page. Safe to run again.
#
#   bash scripts/setup.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."

missing=""
[ -d /usr/share/datasets/fashion-mnist ] || missing="$missing dataset-fashion-mnist"
if [ "${1:-}" = "--tests" ] && ! command -v chromium >/dev/null; then
  missing="$missing chromium"
fi
if command -v apt-get >/dev/null && [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
  if [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
    # One install per package, so that a missing chromium (Ubuntu only has a
    # snap of it) does not keep the dataset out, nor the other way round.
    # Without the dataset package the fetch stage downloads the official files
    # instead; without chromium the browser test skips.
    if $sudo apt-get update -qq; then
      for package in $missing; do
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" \
          || echo "setup: $package not installed"
      done
    else
      echo "setup: apt-get update failed;$missing not installed"
    fi
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
