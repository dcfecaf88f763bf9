#!/usr/bin/env bash
# What depending on chan costs, beside crossbeam-channel: for each way of
# declaring the dependency, the crates it brings (normal dependencies,
# the crate itself included), the time of a clean debug build of a small
# dependent's test binary, and that binary's size.
#
#   compat/footprint.sh      prints a markdown table (about 3 minutes on
#                            2 cores; the build times are the noisy column)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${FOOTPRINT_DIR:-$root/target/footprint}
export CARGO_TERM_COLOR=never
mkdir -p "$work"

# label | dependency line
configs=(
  "crossbeam-channel 0.5|crossbeam-channel = \"0.5\""
  "chan (default features)|crossbeam-channel = { package = \"chan\", path = \"$root\" }"
  "chan, default-features = false, features = [\"std\"]|crossbeam-channel = { package = \"chan\", path = \"$root\", default-features = false, features = [\"std\"] }"
)
# Each further feature on top of the lean path.
for feature in $(sed -n '/^\[features\]/,/^\[/p' "$root/Cargo.toml" | grep -oE '^[a-z][a-z0-9_-]* =' | tr -d ' =' | grep -vE '^(default|std)$'); do
  configs+=("lean + \"$feature\"|crossbeam-channel = { package = \"chan\", path = \"$root\", default-features = false, features = [\"std\", \"$feature\"] }")
done

echo "| dependency | crates | clean debug build (s) | test binary (MB) |"
echo "| --- | ---: | ---: | ---: |"
i=0
for config in "${configs[@]}"; do
  label=${config%%|*}
  dep=${config#*|}
  dir=$work/dependent-$i
  i=$((i + 1))
  rm -rf "$dir"
  mkdir -p "$dir/src"
  printf '[package]\nname = "dependent"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n\n[dependencies]\n%s\n' "$dep" > "$dir/Cargo.toml"
  cat > "$dir/src/lib.rs" <<'RS'
//! A small user of the channel API: a pipeline with a select.
pub fn pipeline(n: u64) -> u64 {
    let (s, r) = crossbeam_channel::bounded(16);
    let (done_s, done_r) = crossbeam_channel::unbounded();
    let h = std::thread::spawn(move || {
        let mut sum = 0;
        for v in r.iter() {
            sum += v;
        }
        done_s.send(sum).unwrap();
    });
    for v in 0..n {
        s.send(v).unwrap();
    }
    drop(s);
    h.join().unwrap();
    crossbeam_channel::select! {
        recv(done_r) -> sum => sum.unwrap(),
        default(std::time::Duration::from_secs(10)) => 0,
    }
}

#[test]
fn sums() {
    assert_eq!(pipeline(100), 4950);
}
RS
  crates=$(cd "$dir" && cargo tree -e normal --prefix none 2>/dev/null | sed 's/ (\*)$//' | sort -u | grep -vc '^dependent ')
  start=$(date +%s.%N)
  (cd "$dir" && CARGO_TARGET_DIR=$dir/target cargo test --no-run -q >/dev/null 2>&1)
  end=$(date +%s.%N)
  bin=$(ls "$dir"/target/debug/deps/dependent-* | grep -v '\.d$' | head -n 1)
  size=$(stat -c %s "$bin")
  awk -v l="$label" -v c="$crates" -v s="$start" -v e="$end" -v b="$size" \
    'BEGIN { printf "| %s | %d | %.1f | %.1f |\n", l, c, e - s, b / 1048576 }'
done
