#!/bin/sh
# Installs a prebuilt deep-review from its release, after checking the archive's SHA-256.
#
#   curl -sSfL https://github.com/deep-review/deep-review/releases/latest/download/install-deep-review.sh | sh
#   sh install-deep-review.sh [--version X.Y.Z | --from-checkout DIR]
#
# --version X.Y.Z      the release to install (default: the latest release)
# --from-checkout DIR  the release matching the version in DIR/Cargo.toml (the GitHub Action
#                      passes its own checkout, so it installs the binary of its own version)
#
# Environment:
#   DEEP_REVIEW_INSTALL_DIR  where the binary goes (default: $HOME/.local/bin)
#   DEEP_REVIEW_TARGET       the Rust target triple (default: this machine's, from uname)
#   DEEP_REVIEW_BASE_URL     the releases' address (default: the project's GitHub releases);
#                            archives are fetched from BASE/download/vX.Y.Z/ (or
#                            BASE/latest/download/)
#
# The archive is deep-review-TARGET.tar.gz (.zip on Windows) beside its .sha256 file. A
# checksum that does not match stops the install before anything is written.
set -eu

base_url=${DEEP_REVIEW_BASE_URL:-https://github.com/deep-review/deep-review/releases}
install_dir=${DEEP_REVIEW_INSTALL_DIR:-${HOME:-}/.local/bin}
target=${DEEP_REVIEW_TARGET:-}
version=latest

die() {
  echo "install-deep-review: error: $*" >&2
  exit 1
}
say() {
  echo "install-deep-review: $*" >&2
}

while [ $# -gt 0 ]; do
  case $1 in
    --version)
      [ $# -ge 2 ] || die "--version needs a version, e.g. --version 0.1.0"
      version=${2#v}
      shift 2
      ;;
    --from-checkout)
      [ $# -ge 2 ] || die "--from-checkout needs the folder holding deep-review's Cargo.toml"
      [ -f "$2/Cargo.toml" ] || die "$2/Cargo.toml not found: --from-checkout needs a checkout of deep-review"
      grep -q '^name = "deep-review"' "$2/Cargo.toml" ||
        die "$2/Cargo.toml is not deep-review's (no 'name = \"deep-review\"' line)"
      version=$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$2/Cargo.toml" | head -n 1)
      [ -n "$version" ] || die "no 'version = \"...\"' line in $2/Cargo.toml"
      shift 2
      ;;
    -h | --help)
      echo "usage: install-deep-review.sh [--version X.Y.Z | --from-checkout DIR]" >&2
      echo "environment: DEEP_REVIEW_INSTALL_DIR, DEEP_REVIEW_TARGET, DEEP_REVIEW_BASE_URL" >&2
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

if [ -z "$target" ]; then
  os=$(uname -s)
  arch=$(uname -m)
  case $arch in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no prebuilt deep-review for the $arch processor; build it from source: cargo install --locked --git https://github.com/deep-review/deep-review" ;;
  esac
  case $os in
    Linux) target=$arch-unknown-linux-musl ;;
    Darwin) target=$arch-apple-darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) target=x86_64-pc-windows-msvc ;;
    *) die "no prebuilt deep-review for $os; build it from source: cargo install --locked --git https://github.com/deep-review/deep-review" ;;
  esac
fi

case $target in
  *windows*) archive=deep-review-$target.zip exe=deep-review.exe ;;
  *) archive=deep-review-$target.tar.gz exe=deep-review ;;
esac
if [ "$version" = latest ]; then
  url=$base_url/latest/download/$archive
else
  url=$base_url/download/v$version/$archive
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t deep-review)
trap 'rm -rf "$tmp"' EXIT INT TERM

# From an https address, neither the first request nor any redirect may fall back to plain
# http (a downgrade would let the network swap the binary and its checksum).
case $base_url in
  https://*) https_only=1 ;;
  *) https_only= ;;
esac

fetch() {
  if command -v curl >/dev/null 2>&1; then
    if [ -n "$https_only" ]; then
      curl --proto '=https' --proto-redir '=https' --fail --silent --show-error --location --retry 3 --output "$2" "$1"
    else
      curl --fail --silent --show-error --location --retry 3 --output "$2" "$1"
    fi
  elif command -v wget >/dev/null 2>&1; then
    if [ -n "$https_only" ]; then
      wget --https-only --quiet --tries=3 --output-document="$2" "$1"
    else
      wget --quiet --tries=3 --output-document="$2" "$1"
    fi
  else
    die "neither curl nor wget is installed; install one of them"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/.*= *//'
  else
    die "no sha256sum, shasum or openssl to check the download with"
  fi
}

say "downloading deep-review $version for $target from $url"
fetch "$url" "$tmp/$archive" ||
  die "could not download $url: is deep-review $version released for $target? (pin a released version, or build from source)"
fetch "$url.sha256" "$tmp/$archive.sha256" ||
  die "could not download the checksum $url.sha256; nothing was installed"

expected=$(cut -d ' ' -f 1 <"$tmp/$archive.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')
case $expected in
  *[!0-9a-f]* | "") die "$archive.sha256 holds no SHA-256 (got '$expected'); nothing was installed" ;;
esac
[ ${#expected} -eq 64 ] || die "$archive.sha256 holds no SHA-256 (got '$expected'); nothing was installed"
actual=$(sha256 "$tmp/$archive")
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $archive: expected $expected, got $actual. The download is corrupt or not the published one; nothing was installed."
fi

mkdir "$tmp/unpacked"
case $archive in
  *.zip)
    if command -v unzip >/dev/null 2>&1; then
      unzip -q "$tmp/$archive" -d "$tmp/unpacked"
    else
      powershell -NoProfile -Command "Expand-Archive -LiteralPath '$tmp/$archive' -DestinationPath '$tmp/unpacked'"
    fi
    ;;
  *) tar -xzf "$tmp/$archive" -C "$tmp/unpacked" ;;
esac
binary=$tmp/unpacked/deep-review-$target/$exe
[ -f "$binary" ] || die "$archive holds no deep-review-$target/$exe; nothing was installed"

mkdir -p "$install_dir"
cp "$binary" "$install_dir/.$exe.new"
chmod 755 "$install_dir/.$exe.new"
mv -f "$install_dir/.$exe.new" "$install_dir/$exe"
say "installed $("$install_dir/$exe" --version 2>/dev/null || echo "deep-review $version") to $install_dir/$exe"
case ":${PATH:-}:" in
  *":$install_dir:"*) ;;
  *) say "add $install_dir to your PATH to run it as deep-review" ;;
esac
