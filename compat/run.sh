#!/usr/bin/env bash
# Runs the test suites of published crates that depend on crossbeam-channel
# 0.5, with chan in its place, on both of chan's flavors; and
# crossbeam-channel's own test suite the same way.
#
#   compat/run.sh                 every crate, both flavors
#   compat/run.sh default         one flavor (default or hchan)
#   compat/run.sh hchan rusty_pool  one flavor, one crate
#   COMPAT_CRATES="crossbeam-channel lsp-server" compat/run.sh
#                                 a subset (CI runs the quicker crates)
#
# Nothing of theirs is stored here: each crate is fetched from crates.io at
# the version named below and copied under target/compat/. chan goes in
# through `[patch.crates-io]`: a crate named crossbeam-channel (written here,
# in target/compat/shim-FLAVOR) that re-exports chan, with
# `bounded`/`unbounded` taken from `chan::hchan` for the hchan flavor.
# Prints one line per crate and flavor; exits 1 if any suite failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${COMPAT_DIR:-$root/target/compat}
export CARGO_TARGET_DIR=$work/target
export CARGO_TERM_COLOR=never

# name version features (comma-separated, or -)
crates=(
  "crossbeam-channel 0.5.15 -"
  "tracing-appender 0.2.3 -"
  "lsp-server 0.7.8 -"
  "rusty_pool 0.7.0 -"
  "workerpool 1.2.1 crossbeam"
  "crossbeam 0.8.4 -"
)
flavors=${1:-default hchan}
only=${2:-}

mkdir -p "$work"

shim() { # flavor -> path of a crossbeam-channel crate re-exporting chan
  local flavor=$1 dir=$work/shim-$1
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "crossbeam-channel"
version = "0.5.99"
edition = "2021"
publish = false

[workspace]

[lib]
path = "src/lib.rs"

[dependencies]
chan = { path = "$root", default-features = false }

# crossbeam-channel's one feature, passed on to chan's (the crossbeam
# umbrella crate turns it on).
[features]
default = ["std", "chan/default"]
std = ["chan/std"]
TOML
  {
    echo "//! chan, under crossbeam-channel's name ($flavor flavor)."
    echo "pub use chan::*;"
    if [ "$flavor" = hchan ]; then
      echo "pub use chan::hchan::{bounded, unbounded};"
    fi
  } > "$dir/src/lib.rs"
  echo "$dir"
}

fetch() { # name version -> path of the unpacked crate in cargo's cache
  local name=$1 version=$2 dir=$work/fetch-$1
  mkdir -p "$dir/src"
  printf '[package]\nname = "fetch-%s"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n\n[dependencies]\n%s = "=%s"\n' \
    "$name" "$name" "$version" > "$dir/Cargo.toml"
  : > "$dir/src/lib.rs"
  (cd "$dir" && cargo fetch -q >/dev/null)
  local home=${CARGO_HOME:-$HOME/.cargo}
  ls -d "$home"/registry/src/*/"$name-$version" | head -n 1
}

prepare() { # name version flavor -> a copy of the crate wired to the shim
  local name=$1 version=$2 flavor=$3 src dst
  src=$(fetch "$name" "$version")
  dst=$work/$flavor/$name-$version
  rm -rf "$dst"
  mkdir -p "$(dirname "$dst")"
  cp -r "$src" "$dst"
  chmod -R u+w "$dst"
  local shim_dir
  shim_dir=$(shim "$flavor")
  if [ "$name" = crossbeam-channel ]; then
    # Its tests, against the shim instead of its own sources.
    rm -rf "$dst/src" "$dst/benches" "$dst/examples"
    mkdir -p "$dst/src"
    : > "$dst/src/lib.rs"
    cat > "$dst/Cargo.toml" <<TOML
[package]
name = "crossbeam-channel-tests"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dev-dependencies]
crossbeam-channel = { path = "$shim_dir" }
crossbeam-utils = "0.8"
num_cpus = "1.13"
rand = "0.8"
signal-hook = "0.3"
TOML
  else
    printf '\n[workspace]\n\n[patch.crates-io]\ncrossbeam-channel = { path = "%s" }\n' "$shim_dir" >> "$dst/Cargo.toml"
  fi
  # Lock files of published crates pin crossbeam-channel: resolve anew.
  rm -f "$dst/Cargo.lock"
  echo "$dst"
}

failed=0
for flavor in $flavors; do
  for entry in "${crates[@]}"; do
    read -r name version features <<<"$entry"
    if [ -n "$only" ] && [ "$only" != "$name" ]; then
      continue
    fi
    if [ -n "${COMPAT_CRATES:-}" ] && ! [[ " $COMPAT_CRATES " == *" $name "* ]]; then
      continue
    fi
    dir=$(prepare "$name" "$version" "$flavor")
    args=()
    if [ "$features" != - ]; then
      args+=(--features "$features")
    fi
    log=$work/$flavor-$name.log
    if (cd "$dir" && timeout 1200 cargo test "${args[@]}" >"$log" 2>&1); then
      status=pass
    else
      status=FAIL
      failed=1
    fi
    summary=$({ grep -E '^test result' "$log" || true; } | awk '{p+=$4; f+=$6} END {printf "%d passed, %d failed", p, f}')
    if grep -q '^error: could not compile' "$log"; then
      summary="$summary, does not build"
    fi
    # The patched crate must really be chan: cargo reports an unused patch.
    if grep -q 'patch.*was not used' "$log"; then
      status=FAIL
      failed=1
      summary="$summary (chan was not used)"
    fi
    printf '%-8s %-7s %-18s %-8s %s\n' "$status" "$flavor" "$name" "$version" "$summary"
  done
done
exit $failed
