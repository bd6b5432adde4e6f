#!/usr/bin/env bash
# `make profile`: runs the frame store bench in its quick mode under
# callgrind and prints the functions that cost the most.
#
#   bash bench/profile.sh BUILD_DIR [memory|redis]
set -euo pipefail

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
  echo "usage: bash bench/profile.sh BUILD_DIR [memory|redis]" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)
only=()
if [ $# -ge 2 ]; then only=(--only "$2"); fi
command -v valgrind >/dev/null || { echo "profile: valgrind is missing (make deps)" >&2; exit 1; }

export GST_PLUGIN_PATH="$BUILD/gst-relais${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
out="$BUILD/callgrind.out.store-bench"
rm -f "$out"
# Only this process: redis-server and redis-benchmark run unprofiled.
valgrind -q --tool=callgrind --callgrind-out-file="$out" --trace-children=no \
  "$BUILD/bench/relais-store-bench" --quick "${only[@]}"
callgrind_annotate --inclusive=no "$out" 2>/dev/null | head -60
echo "profile: $out (open with kcachegrind or callgrind_annotate --inclusive=yes)" >&2
