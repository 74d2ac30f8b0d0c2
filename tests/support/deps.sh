#!/bin/sh
# Installs the Debian packages the build, the demo, the tests and the
# benchmark use, when they are missing: gcc and libc6-dev (Rust links with
# cc, and the static build needs glibc's static libraries), busybox-static
# (the container's root file system), uidmap (newuidmap/newgidmap), iproute2
# (ip), procps (ps, kill), python3 (two tests use it), jq (a README
# example), passt (pasta: the cookbook's network for an ordinary user),
# qemu-user-static (the cookbook's arm64 busybox), crun and
# golang-github-containers-common (the escape battery's podman column);
# with --fuzz a C++ compiler, a nightly toolchain and cargo-fuzz, with
# --conformance util-linux's build tools, with --bwrap-new what building
# bubblewrap needs, with --containers podman and containerd (ctr), and runc on a hybrid host, with --kernels what the kernel
# matrix's VMs need, with --fresh what make test-fresh needs, with --bench
# cgroup-tools, bubblewrap and crun.
#
# Needs no Rust: as an ordinary user it runs apt-get through sudo, so a
# `make demo` from your own shell asks for your password once, and sudo's
# PATH (without ~/.cargo/bin) does not matter.
set -eu

need=""
have() { command -v "$1" >/dev/null 2>&1; }
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then need="$need busybox-static"; fi
have cc || need="$need gcc"
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/libc.a ] || need="$need libc6-dev"
have newuidmap || need="$need uidmap"
have ip || need="$need iproute2"
have ps && [ -x /usr/bin/kill ] || need="$need procps"
# The tests' helpers use ctypes, which python3-minimal lacks.
python3 -c 'import ctypes' 2>/dev/null || need="$need python3"
have jq || need="$need jq"
have pasta || need="$need passt"
[ -x /usr/bin/qemu-aarch64-static ] || need="$need qemu-user-static"
# The escape battery's other column (tests/isolation.rs) and make bench's
# finale: crun with podman's seccomp profile from containers-common.
have crun || need="$need crun"
# tests/bwrap_parity.rs: the options taken from bubblewrap, beside bwrap.
have bwrap || need="$need bubblewrap"
[ -f /usr/share/containers/seccomp.json ] || need="$need golang-github-containers-common"
case "${1:-}" in
--fuzz)
    have c++ || need="$need g++"
    # rustup and crates.io are package registries too; nothing else is fetched.
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install --profile minimal nightly
    cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz
    ;;
--bench)
    # The other side of the rs-cgroup table (bwrap and crun are above).
    have cgcreate || need="$need cgroup-tools"
    ;;
--kernels | --fresh)
    # The VMs (kernel matrix, test-fresh): qemu (TCG), depmod for the
    # kernels' modules, and a Python venv for virtme-ng from PyPI; for
    # test-fresh, debootstrap and mkfs.ext4 for the fresh machine's disk,
    # cpio for its initramfs.
    have qemu-system-x86_64 || need="$need qemu-system-x86"
    have depmod || need="$need kmod"
    python3 -c 'import ensurepip, venv' 2>/dev/null || need="$need python3-venv"
    if [ "$1" = --fresh ]; then
        have debootstrap || need="$need debootstrap"
        have mkfs.ext4 || need="$need e2fsprogs"
        have cpio || need="$need cpio"
    fi
    ;;
--containers)
    # tests/containers.rs: real containers by rootful podman, and by
    # containerd through ctr; runc where the cgroups are hybrid (crun
    # refuses them).
    have podman || need="$need podman"
    have ctr || need="$need containerd"
    if ! grep -q ' /sys/fs/cgroup .* - cgroup2 ' /proc/self/mountinfo; then
        have runc || need="$need runc"
    fi
    ;;
--bwrap-new)
    # tests/support/bwrap-new.sh builds bubblewrap 0.11 or later from
    # Debian's source package when the installed bwrap is older (the
    # overlay options' parity test, make bench's layered box).
    if ! bwrap --help 2>&1 | grep -q -- '--overlay-src'; then
        for tool in meson:meson ninja:ninja-build pkg-config:pkg-config; do
            have "${tool%%:*}" || need="$need ${tool#*:}"
        done
        [ -f /usr/include/sys/capability.h ] || need="$need libcap-dev"
    fi
    ;;
--conformance)
    # util-linux's tests, built with meson: its build tools (bison and flex
    # for libsmartcols' filter parser) and what the test scripts run.
    for tool in meson:meson ninja:ninja-build bison:bison flex:flex pkg-config:pkg-config; do
        have "${tool%%:*}" || need="$need ${tool#*:}"
    done
    # util-linux's own setpriv (the reference run) links libcap-ng.
    [ -f /usr/include/cap-ng.h ] || need="$need libcap-ng-dev"
    ;;
esac
# overlayfs (the demo's and the cookbook's image layers) must be loaded
# beforehand: a user namespace cannot make the kernel load a module, and a
# fresh Debian has not loaded it. modprobe is in kmod.
load_overlay=""
if ! grep -qw overlay /proc/filesystems; then
    load_overlay=yes
    have modprobe || need="$need kmod"
fi
[ -z "$need" ] && [ -z "$load_overlay" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    sudo=""
elif have sudo; then
    echo "deps: missing Debian packages:${need:- none}${load_overlay:+, and the overlay module}; installing with sudo" >&2
    sudo="sudo"
else
    echo "deps: missing Debian packages:${need:- none}${load_overlay:+, and the overlay module}; run 'make deps' as root (there is no sudo)" >&2
    exit 1
fi
if [ -n "$need" ]; then
    echo "deps: installing$need"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if [ -n "$load_overlay" ]; then
    echo "deps: loading the overlay module (image layers; a user namespace cannot load it)"
    $sudo modprobe overlay || echo "deps: cannot load overlay: the image-layer examples will fail" >&2
fi
