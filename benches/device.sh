#!/usr/bin/env bash
# The many-core comparison, for a lent machine that has no Rust or Go
# toolchain (docs/archive/comparison-notebook.md, "16 cores"). Nothing else depends on it.
#
#   benches/device.sh build   # here: release binaries into target/device/
#   benches/device.sh run     # there, from the repository root, with the
#                             # target/device/ folder carried; results go
#                             # to $OUT (default target/device/out)
#
# `run` times `compare` at 16 and at 4 threads per side (no pinned pass),
# runs `hot`'s select_both at 16 threads twice, and, where `perf` exists,
# records the 16-thread rendezvous select_both for chan and crossbeam.
set -euo pipefail
cd "$(dirname "$0")/.."
D=target/device

case "${1:-}" in
build)
  mkdir -p "$D"
  for bench in compare hot; do
    exe=$(cargo bench --bench "$bench" --no-run --message-format=json 2>/dev/null |
      sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
    [ -n "$exe" ] || { echo "no executable for $bench" >&2; exit 1; }
    cp "$exe" "$D/$bench"
  done
  if command -v go >/dev/null 2>&1; then
    (cd benches/go && go build -o "../../$D/gobench" main.go)
  else
    echo "go not installed: the run will have no Go column" >&2
  fi
  ls -l "$D"
  ;;
run)
  OUT=${OUT:-$D/out}
  mkdir -p "$OUT"
  go_bin=()
  [ -x "$D/gobench" ] && go_bin=(COMPARE_GO_BIN="$PWD/$D/gobench")
  { nproc; lscpu | grep -E "Model name|Socket|Thread|Core" || true; uptime; } > "$OUT/machine.txt" 2>&1
  # 3 runs per cell (the median of 3) so both passes fit the machine's
  # time; the 2-core runs use the default 5.
  for threads in 16 4; do
    env COMPARE_PINNED=0 COMPARE_RUNS=3 COMPARE_THREADS=$threads COMPARE_SVG_DIR="$OUT/svg$threads" "${go_bin[@]}" \
      timeout 240 "$D/compare" --bench > "$OUT/compare$threads.md" 2>&1 || echo "compare $threads: exit $?" >> "$OUT/machine.txt"
    uptime >> "$OUT/machine.txt"
  done
  for _ in 1 2; do
    COMPARE_THREADS=16 HOT_FILTER=select_both HOT_ROUNDS=3 HOT_MESSAGES=100000 timeout 120 "$D/hot" >> "$OUT/hot16.txt" 2>&1 || true
  done
  if command -v perf >/dev/null 2>&1; then
    for lib in chan crossbeam; do
      COMPARE_THREADS=16 HOT_FILTER="select_both/bounded(0)/$lib" HOT_ROUNDS=1 HOT_MESSAGES=100000 \
        timeout 120 perf record -F 2000 -g -o "$OUT/perf-$lib.data" "$D/hot" >> "$OUT/perf.txt" 2>&1 || true
      perf report -i "$OUT/perf-$lib.data" --no-children --percent-limit 1 --stdio --sort sym > "$OUT/perf-$lib.txt" 2>&1 || true
      rm -f "$OUT/perf-$lib.data"
    done
  else
    echo "no perf on this machine" >> "$OUT/machine.txt"
  fi
  ;;
*)
  echo "usage: $0 build|run" >&2
  exit 2
  ;;
esac
