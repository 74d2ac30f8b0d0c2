#!/bin/sh
# Puts Debian's static busybox for another architecture (default arm64) in
# DIR/bin/busybox, for the cookbook's foreign-binaries recipe: fetched with
# apt-get download through a private sources list and package lists (the
# machine's apt setup is not touched) and unpacked with dpkg -x. Kept in
# RSNS_FOREIGN_CACHE (default ~/.cache/rsns-foreign) so later runs, and VMs
# without a network that share the directory, need no download.
#
# Usage: foreign-busybox.sh DIR [ARCH]
set -eu
dir=${1:?usage: foreign-busybox.sh DIR [ARCH]}
arch=${2:-arm64}
cache=${RSNS_FOREIGN_CACHE:-${HOME:-/tmp}/.cache/rsns-foreign}/$arch
if ! [ -x "$cache/bin/busybox" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/parts" "$work/archives/partial"
    echo "deb [arch=$arch] http://deb.debian.org/debian bookworm main" >"$work/sources.list"
    apt="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=$work/parts \
-o Dir::State::Lists=$work/lists -o Dir::Cache::Archives=$work/archives \
-o APT::Architecture=$arch -o APT::Architectures=$arch -o APT::Sandbox::User=$(id -un)"
    # shellcheck disable=SC2086 # one word per option
    apt-get -q $apt update >/dev/null
    # shellcheck disable=SC2086
    (cd "$work" && apt-get -q $apt download "busybox-static:$arch" >/dev/null)
    mkdir -p "$work/x" "$cache/bin"
    dpkg -x "$work"/busybox-static_*.deb "$work/x"
    cp "$work/x/bin/busybox" "$cache/bin/busybox.new"
    mv "$cache/bin/busybox.new" "$cache/bin/busybox"
fi
mkdir -p "$dir/bin"
cp "$cache/bin/busybox" "$dir/bin/busybox"
echo "foreign-busybox: busybox-static for $arch in $dir"
