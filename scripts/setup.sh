#!/usr/bin/env bash
# Installs what finch needs to build and test, skipping whatever is present.
# A second run installs nothing and takes seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

APT_PACKAGES=(build-essential cmake ninja-build ccache git time
  python3 python3-venv
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libcurl4-openssl-dev libgtest-dev libpcre2-dev libutf8proc-dev pkg-config
  clang libclang-rt-14-dev
  libgloo-dev openmpi-bin)  # Gloo's headers for c10d's CPU process group; mpirun for the launch tests

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Python side: libtorch (from the PyPI torch wheel) and the reference libraries.
req="$FINCH_ROOT/requirements-dev.txt"
stamp="$FINCH_VENV/.finch-requirements"
if [ ! -x "$FINCH_PYTHON" ]; then
  echo "setup: creating the virtual environment $FINCH_VENV"
  mkdir -p "$FINCH_CACHE"
  python3 -m venv "$FINCH_VENV"
fi
if ! cmp -s "$req" "$stamp"; then
  echo "setup: installing Python packages into $FINCH_VENV (torch is a large download, once)"
  "$FINCH_PYTHON" -m pip install -q --upgrade pip
  "$FINCH_PYTHON" -m pip install -q -r "$req"
  cp "$req" "$stamp"
fi
mkdir -p "$CCACHE_DIR"
echo "setup: ready (cache: $FINCH_CACHE)"
