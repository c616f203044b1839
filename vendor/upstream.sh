#!/usr/bin/env bash
# The vendored crates against the crates.io releases they were copied from (vendor/README.md).
#
#   vendor/upstream.sh diff                       the patch: crates.io's burn-flex -> vendor/burn-flex
#   vendor/upstream.sh cargo CARGO-ARGS...        one cargo command with crates.io's burn-flex
#                                                 instead of ours, e.g. `build --release -p d2l-bench`
#
# crates.io's source is fetched by cargo into its registry through a scratch manifest (the root's
# [patch] keeps the workspace from ever fetching it); `cargo` overrides the root's [patch] with
# `--config` (config patches win over manifest ones) and puts the lock files back afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' vendor/burn-flex/Cargo.toml | head -n 1)"
scratch=target/upstream
mkdir -p "$scratch/src" && touch "$scratch/src/lib.rs"
printf '[package]\nname = "upstream"\nversion = "0.0.0"\nedition = "2024"\n\n[dependencies]\nburn-flex = "=%s"\n\n[workspace]\n' "$version" > "$scratch/Cargo.toml"
original="$(cargo metadata --quiet --format-version 1 --manifest-path "$scratch/Cargo.toml" | python3 -c '
import json, os, sys
packages = [p for p in json.load(sys.stdin)["packages"] if p["name"] == "burn-flex"]
print(os.path.dirname(packages[0]["manifest_path"]))')"

case "${1:-}" in
  diff)
    # `diff` exits 1 when the trees differ, which is the point.
    diff -ruN --exclude=.cargo-ok --exclude=Cargo.lock --exclude=target "$original" vendor/burn-flex \
      | sed -e "s|^--- $original/\([^\t]*\).*|--- a/\1|" -e 's|^+++ vendor/burn-flex/\([^\t]*\).*|+++ b/\1|' -e '/^diff -ruN/d' || true
    ;;
  cargo)
    shift
    # The lock files a different burn-flex source could touch: the root's and the book programs'.
    locks=(Cargo.lock)
    [ -f target/d2l-book/programs/Cargo.lock ] && locks+=(target/d2l-book/programs/Cargo.lock)
    for lock in "${locks[@]}"; do cp "$lock" "$lock.saved"; done
    trap 'for lock in "${locks[@]}"; do mv "$lock.saved" "$lock"; done' EXIT
    cargo "$@" --config "patch.crates-io.burn-flex.path=\"$original\""
    ;;
  *) echo "usage: vendor/upstream.sh diff | cargo CARGO-ARGS..." >&2; exit 2 ;;
esac
