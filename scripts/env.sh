# Sourced by the other scripts: where finch keeps its heavy state.
# FINCH_CACHE holds the Python virtual environment (the PyPI torch wheel that
# provides libtorch, and the reference libraries), ccache's cache and the
# test models. It lives outside the checkout so a fresh clone reuses it.
FINCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FINCH_CACHE="${FINCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finch}"
export FINCH_VENV="${FINCH_VENV:-$FINCH_CACHE/venv}"
export FINCH_PYTHON="${FINCH_PYTHON:-$FINCH_VENV/bin/python}"
export CCACHE_DIR="${CCACHE_DIR:-$FINCH_CACHE/ccache}"
export FINCH_BUILD="${FINCH_BUILD:-$FINCH_ROOT/build}"
# The tests and benchmarks never reach a hub: the models they use are made locally.
export HF_HUB_OFFLINE=1
export HF_HOME="${HF_HOME:-$FINCH_CACHE/hf}"
# ccache across checkouts: paths relative to the checkout, and compiles that
# use the precompiled header are cacheable.
export CCACHE_BASEDIR="$FINCH_ROOT"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
