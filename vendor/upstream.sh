#!/usr/bin/env bash
# The vendored crates against the crates.io releases they were copied from (vendor/README.md).
#
#   vendor/upstream.sh diff [CRATE]                  the patch: crates.io's release -> vendor/CRATE
#                                                    (every vendored crate without CRATE)
#   vendor/upstream.sh cargo [--only CRATE] ARGS...  one cargo command with crates.io's releases
#                                                    instead of ours (only CRATE's with --only),
#                                                    e.g. `build --release -p d2l-bench`
#
# crates.io's sources are fetched by cargo into its registry through a scratch manifest (the
# root's [patch] keeps the workspace from ever fetching them); `cargo` overrides the root's [patch]
# with `--config` (config patches win over manifest ones) and puts the lock files back afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

vendored=()
for manifest in vendor/*/Cargo.toml; do vendored+=("$(basename "$(dirname "$manifest")")"); done
require_vendored() { [ -d "vendor/${1:-}" ] || { echo "no vendored crate vendor/${1:-}" >&2; exit 2; }; }

# The directory of crates.io's release of a vendored crate, same version.
original() {
  local name="$1" version scratch="target/upstream/$1"
  version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "vendor/$name/Cargo.toml" | head -n 1)"
  mkdir -p "$scratch/src" && touch "$scratch/src/lib.rs"
  printf '[package]\nname = "upstream"\nversion = "0.0.0"\nedition = "2024"\n\n[dependencies]\n%s = "=%s"\n\n[workspace]\n' \
    "$name" "$version" > "$scratch/Cargo.toml"
  cargo metadata --quiet --format-version 1 --manifest-path "$scratch/Cargo.toml" | python3 -c '
import json, os, sys
packages = [p for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1]]
print(os.path.dirname(packages[0]["manifest_path"]))' "$name"
}

case "${1:-}" in
  diff)
    for name in "${2:-${vendored[@]}}"; do
      require_vendored "$name"
      from="$(original "$name")"
      # `diff` exits 1 when the trees differ, which is the point.
      diff -ruN --exclude=.cargo-ok --exclude=Cargo.lock --exclude=target "$from" "vendor/$name" \
        | sed -e "s|^--- $from/\([^\t]*\).*|--- a/$name/\1|" \
              -e "s|^+++ vendor/$name/\([^\t]*\).*|+++ b/$name/\1|" -e '/^diff -ruN/d' || true
    done
    ;;
  cargo)
    shift
    swapped=("${vendored[@]}")
    if [ "${1:-}" = --only ]; then
      require_vendored "${2:-}"
      swapped=("$2"); shift 2
    fi
    overrides=()
    for name in "${swapped[@]}"; do
      overrides+=(--config "patch.crates-io.$name.path=\"$(original "$name")\"")
    done
    # The lock files a different source could touch: the root's and the book programs'.
    locks=(Cargo.lock)
    [ -f target/d2l-book/programs/Cargo.lock ] && locks+=(target/d2l-book/programs/Cargo.lock)
    for lock in "${locks[@]}"; do cp "$lock" "$lock.saved"; done
    trap 'for lock in "${locks[@]}"; do mv "$lock.saved" "$lock"; done' EXIT
    cargo "${overrides[@]}" "$@"
    ;;
  *) echo "usage: vendor/upstream.sh diff [CRATE] | cargo [--only CRATE] CARGO-ARGS..." >&2; exit 2 ;;
esac
