#!/bin/sh
# Installs the Debian packages the demo, the tests and the benchmark use, when
# they are missing: busybox-static (the container's root file system), uidmap
# (newuidmap/newgidmap), iproute2 (ip, for the network examples), python3 (the
# PID-reuse test reads a pidfd's inode with it), with --bench a C compiler
# for the benchmark's floor program, and with --fuzz a C++ compiler (libFuzzer),
# a nightly toolchain and cargo-fuzz. util-linux (unshare, nsenter, setpriv,
# script), bash and perl are part of every Debian system.
set -eu

if ! command -v cargo >/dev/null 2>&1; then
    echo "deps: cargo not found: install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi

need=""
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then need="$need busybox-static"; fi
command -v newuidmap >/dev/null 2>&1 || need="$need uidmap"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v python3 >/dev/null 2>&1 || need="$need python3-minimal"
if [ "${1:-}" = --bench ]; then
    command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
fi
if [ "${1:-}" = --conformance ]; then
    # util-linux's tests, built with meson: a compiler, its build tools (bison
    # and flex for libsmartcols' filter parser) and what the scripts run.
    for tool in cc:gcc meson:meson ninja:ninja-build bison:bison flex:flex \
        pkg-config:pkg-config; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || need="$need ${tool#*:}"
    done
    [ -e /usr/include/stdio.h ] || need="$need libc6-dev"
fi
if [ "${1:-}" = --fuzz ]; then
    command -v c++ >/dev/null 2>&1 || need="$need g++"
    # rustup and crates.io are package registries too; nothing else is fetched.
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install --profile minimal nightly
    cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz
fi
[ -z "$need" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$need; run 'sudo make deps'" >&2
    exit 1
fi
echo "deps: installing$need"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
