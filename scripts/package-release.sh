#!/bin/sh
# Packs a built deep-review into its release archive and writes the archive's SHA-256 beside
# it, in the layout scripts/install-deep-review.sh and cargo-binstall expect:
#   OUT/deep-review-TARGET.tar.gz (.zip for Windows) holding deep-review-TARGET/deep-review
#   OUT/deep-review-TARGET.tar.gz.sha256: "<sha256>  deep-review-TARGET.tar.gz"
#
# usage: scripts/package-release.sh TARGET BINARY OUT
set -eu
[ $# -eq 3 ] || {
  echo "usage: $0 TARGET BINARY OUT" >&2
  exit 2
}
target=$1 binary=$2 out=$3
[ -f "$binary" ] || {
  echo "package-release: $binary not found: build it first" >&2
  exit 1
}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=deep-review-$target
mkdir "$stage/$dir"
case $target in
  *windows*) exe=deep-review.exe archive=$dir.zip ;;
  *) exe=deep-review archive=$dir.tar.gz ;;
esac
cp "$binary" "$stage/$dir/$exe"
chmod 755 "$stage/$dir/$exe"
cp "$root/README.md" "$stage/$dir/"
rm -f "$out/$archive"
case $archive in
  *.zip) (cd "$stage" && 7z a -tzip -bd "$out/$archive" "$dir" >/dev/null) ;;
  *) (cd "$stage" && tar -czf "$out/$archive" "$dir") ;;
esac
if command -v sha256sum >/dev/null 2>&1; then
  sum=$(sha256sum "$out/$archive" | cut -d ' ' -f 1)
else
  sum=$(shasum -a 256 "$out/$archive" | cut -d ' ' -f 1)
fi
printf '%s  %s\n' "$sum" "$archive" >"$out/$archive.sha256"
echo "$out/$archive"
