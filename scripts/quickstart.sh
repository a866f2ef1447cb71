#!/usr/bin/env bash
# Sets everything up (idempotent), builds finch, and runs the main job on the
# built-in default: scripts/quickstart_run.sh (the built-in dataset ->
# prepare -> LoRA training on the CPU -> test against the base model ->
# export), with no Python in that path. Pass --short for the shortened run CI
# uses.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$FINCH_ROOT/scripts/setup.sh"
bash "$FINCH_ROOT/scripts/build.sh" finch
exec bash "$FINCH_ROOT/scripts/quickstart_run.sh" "$@"
