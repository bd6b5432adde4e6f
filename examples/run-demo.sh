#!/usr/bin/env bash
# `make run`: starts relais-server from the build directory with the memory
# store and the demo pipeline (test pattern, watermark, H.264 for browsers).
# Usage: examples/run-demo.sh [build-dir] [relais-server flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true

server="$build/relais-server/relais-server"
if [ ! -x "$server" ]; then
  echo "run-demo: $server is missing; run 'make build' first" >&2
  exit 1
fi
# The server loads the relais plugin through the GStreamer registry.
case "$build" in /*) plugins="$build/gst-relais" ;; *) plugins="$PWD/$build/gst-relais" ;; esac
export GST_PLUGIN_PATH="$plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export RELAIS_PIPELINES="${RELAIS_PIPELINES:-$PWD/examples/pipelines/demo.json}"
export RELAIS_STORAGE_TYPE="${RELAIS_STORAGE_TYPE:-memory}"
port="${RELAIS_SERVER_PORT:-8080}"

cat <<MSG
Relais demo server (Ctrl-C stops it)
  page:      http://127.0.0.1:$port/
  pipelines: http://127.0.0.1:$port/api/v1/pipelines
  streams:   http://127.0.0.1:$port/api/v1/streams
  metrics:   http://127.0.0.1:$port/metrics
  viewer:    http://127.0.0.1:$port/watch/demo
MSG
exec "$server" "$@"
