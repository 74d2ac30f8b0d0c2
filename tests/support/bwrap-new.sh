#!/bin/sh
# Prints the path of a bwrap with the overlay options (bubblewrap 0.11 and
# later): the installed one if it is that new, else one built from the
# newest Debian source package (trixie's), fetched with apt-get source
# through a private sources list and package lists (the machine's apt setup
# is not touched), built with meson into WORKDIR and kept there.
#
# Usage: bwrap-new.sh WORKDIR
# Needs (tests/support/deps.sh --bwrap-new): meson, ninja, pkg-config, a C
# compiler and libcap-dev.
set -eu
work=${1:?usage: bwrap-new.sh WORKDIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
exec 9>"$work/.lock"
flock 9

# 0.11 added --overlay-src; its --help lists it.
if command -v bwrap >/dev/null 2>&1 && bwrap --help 2>&1 | grep -q -- '--overlay-src'; then
    command -v bwrap
    exit 0
fi
built=$(ls -d "$work"/bubblewrap-*/build/bwrap 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$built" ] && [ -x "$built" ]; then
    echo "$built"
    exit 0
fi

opts="-o Dir::Etc::SourceList=$work/apt/sources.list -o Dir::Etc::SourceParts=$work/apt/parts \
-o Dir::State::Lists=$work/apt/lists -o Dir::Cache::Archives=$work/apt/archives"
mkdir -p "$work/apt/lists/partial" "$work/apt/parts" "$work/apt/archives/partial" "$work/src"
echo "deb-src http://deb.debian.org/debian trixie main" >"$work/apt/sources.list"
# shellcheck disable=SC2086 # one word per option
apt-get -q $opts update >/dev/null
# The tarballs are checked against the signed Sources index; the .dsc is
# not needed (and some mirrors do not serve it), so its failure is not one.
# shellcheck disable=SC2086
(cd "$work/src" && apt-get -q $opts source --download-only bubblewrap >/dev/null 2>&1) || true
orig=$(ls "$work"/src/bubblewrap_*.orig.tar.* 2>/dev/null | sort -V | tail -1 || true)
[ -n "$orig" ] || { echo "bwrap-new: no bubblewrap source from trixie" >&2; exit 1; }
version=$(basename "$orig" | sed 's/^bubblewrap_\(.*\)\.orig\.tar\..*$/\1/')
dir="$work/bubblewrap-$version"
rm -rf "$dir"
mkdir -p "$dir"
tar -xf "$orig" -C "$dir" --strip-components=1
# Only the program: no man page, completions, SELinux or tests.
if ! (cd "$dir" && meson setup build -Dman=disabled -Dselinux=disabled -Dtests=false \
    -Dbash_completion=disabled -Dzsh_completion=disabled >"$work/build.log" 2>&1 &&
    ninja -C build >>"$work/build.log" 2>&1); then
    tail -20 "$work/build.log" >&2
    echo "bwrap-new: the build of bubblewrap $version failed (above)" >&2
    exit 1
fi
echo "$dir/build/bwrap"
