#!/usr/bin/env bash
# burn-flex with the d2l-rs patch, for measurements: the crate's source as cargo fetched it from
# crates.io, plus bench/flex/burn-flex.patch, used for one cargo command.
#
#   bench/flex/patch.sh CARGO-COMMAND [ARGS...]   e.g. bench/flex/patch.sh build --release -p d2l-bench
#                                                 (--manifest-path target/d2l-book/programs/Cargo.toml
#                                                 for the book's section programs)
#   bench/flex/patch.sh diff                      write the patch from the edited copy
#
# The patched copy is target/flex-d2l/burn-flex; it is made again whenever the patch file is not
# the one it was made from, so edit the copy, then `diff`. The cargo command gets
# `--config patch.crates-io.burn-flex.path=...`; Cargo.lock is put back afterwards, since the
# book's programs and tests build with crates.io's burn-flex (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."

patch_file=bench/flex/burn-flex.patch
copy=target/flex-d2l/burn-flex
stamp=target/flex-d2l/applied.patch

[ $# -gt 0 ] || { echo "usage: bench/flex/patch.sh CARGO-COMMAND [ARGS...] | diff" >&2; exit 2; }

# The burn-flex source cargo uses, from the registry (fetched if missing).
original="$(cargo metadata --format-version 1 --locked | python3 -c '
import json, os, sys
packages = [p for p in json.load(sys.stdin)["packages"] if p["name"] == "burn-flex"]
print(os.path.dirname(packages[0]["manifest_path"]))')"

if [ "$1" = diff ]; then
  # `diff` exits 1 when the trees differ, which is the point.
  (cd "$(dirname "$copy")" && diff -ruN --exclude=target "$original" burn-flex || true) \
    | sed -e "s|^--- $original/\([^\t]*\).*|--- a/\1|" -e 's|^+++ burn-flex/\([^\t]*\).*|+++ b/\1|' -e '/^diff -ruN/d' > "$patch_file"
  cp "$patch_file" "$stamp"
  echo "wrote $patch_file ($(grep -c '^+++ ' "$patch_file") files) from $copy"
  exit 0
fi

if ! cmp -s "$patch_file" "$stamp" 2>/dev/null; then
  command -v patch >/dev/null || { apt-get update -qq && apt-get install -y -qq patch; }
  rm -rf "$copy" && mkdir -p "$(dirname "$copy")"
  cp -r "$original" "$copy"
  chmod -R u+w "$copy"
  patch -s -d "$copy" -p1 < "$patch_file"
  cp "$patch_file" "$stamp"
  echo "== patched burn-flex in $copy"
fi

# The lock files the patch would change: the root workspace's and the book programs' one.
locks=(Cargo.lock)
[ -f target/d2l-book/programs/Cargo.lock ] && locks+=(target/d2l-book/programs/Cargo.lock)
for lock in "${locks[@]}"; do cp "$lock" "$lock.saved"; done
trap 'for lock in "${locks[@]}"; do mv "$lock.saved" "$lock"; done' EXIT
cargo "$@" --config "patch.crates-io.burn-flex.path=\"$PWD/$copy\""
