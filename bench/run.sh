#!/usr/bin/env bash
# Runs every Relais benchmark against a build and prints their results side by
# side with their anchors. Builds nothing itself (`make bench` builds first).
#
#   bash bench/run.sh BUILD_DIR
#
# Each command below prints lines of the form
#   BENCH <metric> <unit> <relais> <anchor_label> <anchor> <higher_is_better 1|0>
# The raw lines are saved to BUILD_DIR/bench-results.txt. Exits non-zero only
# when a bench command fails to run, never on a missed target.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: bash bench/run.sh BUILD_DIR" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)

# One bench command per line, run from the repo root ("$BUILD" is expanded).
benches=(
  "$BUILD/bench/relais-store-bench"
  "$BUILD/bench/watermark-bench"
  "$BUILD/bench/relais-bench-rtsp-ingest"
  "$BUILD/bench/relais-bench-s3"
  "$BUILD/bench/relais-bench-whep-viewers"
  "$BUILD/bench/relais-bench-failover"
)

export GST_PLUGIN_PATH="$BUILD/gst-relais${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
cd "$(dirname "$0")/.."

results="$BUILD/bench-results.txt"
: >"$results"
failed=0
for cmd in "${benches[@]}"; do
  echo "bench: $cmd" >&2
  out=$(mktemp)
  if ! bash -c "$cmd" >"$out"; then
    echo "bench: FAILED: $cmd" >&2
    failed=1
  fi
  grep '^BENCH ' "$out" >>"$results"
  rm -f "$out"
done

# The issue's targets: metric pattern (awk regex) -> minimum ratio.
awk '
BEGIN {
  target["^store_memory_write_read8_"] = 1.0
  target["^store_redis_write_50KB"] = 0.8
  target["^watermark_i420_1080p"] = 5.0
  fmt = "%-36s %-24s %12s %-30s %12s %7s  %s\n"
  printf fmt, "metric", "unit", "relais", "anchor", "anchor_value", "ratio", "target"
}
$1 == "BENCH" && NF == 7 {
  relais = $4 + 0; anchor = $6 + 0
  if ($7 == 1) ratio = (anchor > 0) ? relais / anchor : 0
  else ratio = (relais > 0) ? anchor / relais : 0
  verdict = "-"
  for (p in target) {
    if ($2 ~ p) {
      verdict = (ratio >= target[p]) ? sprintf("met (>= %.2f)", target[p]) \
                                     : sprintf("MISSED (>= %.2f)", target[p])
    }
  }
  printf fmt, $2, $3, $4, $5, $6, sprintf("%.2f", ratio), verdict
}' "$results"
echo "raw results: $results" >&2
exit "$failed"
