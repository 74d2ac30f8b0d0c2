#!/bin/sh
# Fetches Debian's kernels for the VMs (the kernel matrix, the cgroup bench,
# make test-fresh) and virtme-ng; prints the path of each series' vmlinuz,
# one per line, in the order asked.
#
# Usage: kernels.sh WORKDIR SERIES...     (SERIES: 5.10, 6.1, 6.12, ...)
#
# Each kernel is the newest linux-image-SERIES*-amd64 of the suite that ships
# the series, fetched with apt-get download through a private sources list
# and private package lists (the machine's apt setup is not touched). Its
# modules go under /lib/modules/VERSION, where a guest sharing this machine's
# file system finds them. virtme-ng comes from PyPI, into a venv in WORKDIR.
set -eu
work=${1:?usage: kernels.sh WORKDIR SERIES...}
shift
[ $# -gt 0 ] || { echo "usage: kernels.sh WORKDIR SERIES..." >&2; exit 2; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
# One at a time: a kernel matrix and a test-fresh started together share
# the package lists.
exec 9>"$work/.kernels.lock"
flock 9

# The suite that carries each series (newest first where two do).
suites_of() {
    case "$1" in
    5.10) echo "bullseye-security bullseye" ;;
    6.1) echo "bookworm-security bookworm" ;;
    6.12) echo "trixie-security trixie bookworm-backports" ;;
    *) echo "sid" ;;
    esac
}

apt_opts() {
    echo "-o Dir::Etc::SourceList=$work/apt/sources.list -o Dir::Etc::SourceParts=$work/apt/parts \
-o Dir::State::Lists=$work/apt/lists -o Dir::Cache::Archives=$work/apt/archives \
-o APT::Architecture=amd64"
}

# virtme-ng, in a virtual environment of its own.
# (virtme-run too: vng 1.42 runs it by name, and a half-made venv lacks it.)
if ! [ -x "$work/venv/bin/vng" ] || ! [ -x "$work/venv/bin/virtme-run" ]; then
    python3 -m venv "$work/venv" >&2
    "$work/venv/bin/pip" install -q virtme-ng >&2
fi

mkdir -p "$work/apt/lists/partial" "$work/apt/parts" "$work/apt/archives/partial" "$work/debs"
for s in "$@"; do
    for suite in $(suites_of "$s"); do
        case "$suite" in
        *-security) echo "deb http://deb.debian.org/debian-security $suite main" ;;
        *) echo "deb http://deb.debian.org/debian $suite main" ;;
        esac
    done
done | sort -u >"$work/apt/sources.list.new"
# A new set of suites needs fresh package lists; the same set reuses them
# for an hour.
if ! cmp -s "$work/apt/sources.list.new" "$work/apt/sources.list" ||
    [ -z "$(find "$work/apt/lists" -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -1)" ]; then
    mv "$work/apt/sources.list.new" "$work/apt/sources.list"
    # shellcheck disable=SC2046 # one word per option
    apt-get -q $(apt_opts) update >/dev/null
else
    rm -f "$work/apt/sources.list.new"
fi
for s in "$@"; do
    # linux-image-6.1.0-57-amd64, linux-image-6.12.118+deb13-amd64: not -rt, -cloud or -dbg.
    # shellcheck disable=SC2046
    pkg=$(apt-cache $(apt_opts) search --names-only "^linux-image-$s\\.[0-9]+[-.+][-.+0-9a-z]*-amd64\$" |
        awk '{print $1}' | grep -v -e '-rt-' -e '-cloud-' -e dbg | sort -V | tail -1)
    if [ -z "$pkg" ]; then
        echo "kernels: no linux-image-$s*-amd64 in $(suites_of "$s")" >&2
        exit 1
    fi
    deb=$(ls "$work/debs/${pkg}_"*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        # shellcheck disable=SC2046
        (cd "$work/debs" && apt-get -q $(apt_opts) download "$pkg" >/dev/null 2>&1)
        deb=$(ls "$work/debs/${pkg}_"*.deb | head -1)
    fi
    dir="$work/kernels/$pkg"
    if ! [ -d "$dir" ]; then
        mkdir -p "$dir"
        dpkg -x "$deb" "$dir"
    fi
    for m in "$dir"/lib/modules/* "$dir"/usr/lib/modules/*; do
        [ -d "$m" ] || continue
        version=${m##*/}
        if ! [ -d "/lib/modules/$version" ]; then
            mkdir -p /lib/modules
            cp -a "$m" "/lib/modules/$version"
        fi
        [ -s "/lib/modules/$version/modules.dep" ] || depmod "$version"
    done
    ls "$dir"/boot/vmlinuz-*
done
