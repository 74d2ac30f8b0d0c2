#!/bin/sh
# make test-fresh: the README's two commands on a fresh Debian machine.
#
# Builds a Debian root as a new machine has it (debootstrap minbase, plus
# git, make and ca-certificates, and the Rust toolchain copied in as rustup
# would install it for root; nothing else), on an ext4 disk image, and
# boots it as the root file system of a VM (qemu under TCG through
# virtme-ng) on that release's own kernel, with user-mode networking for
# Debian's archive and crates.io. Inside, as root in /root (a 0700 home):
# git clone, `make demo`, `make test`, then `make deb`, the package
# installed with apt and each tool's --version, man -w and a completion
# tried. Prints each step's outcome and time.
#
# Usage: test-fresh.sh WORKDIR KERNEL-WORKDIR [RELEASE]   (RELEASE: bookworm)
set -eu
work=${1:?usage: test-fresh.sh WORKDIR KERNEL-WORKDIR [RELEASE]}
kwork=${2:?}
release=${3:-bookworm}
here=$(cd "$(dirname "$0")/../.." && pwd)
case "$release" in
bookworm) series=6.1 ;;
trixie) series=6.12 ;;
*) echo "test-fresh: no kernel series known for $release" >&2; exit 2 ;;
esac
mkdir -p "$work"
work=$(cd "$work" && pwd)
kernel=$("$here/tests/support/kernels.sh" "$kwork" "$series")
kwork=$(cd "$kwork" && pwd)
version=${kernel##*/vmlinuz-}

# 1. The base system, made once per release and copied for each run.
base="$work/$release-base"
if ! [ -x "$base/usr/bin/git" ]; then
    rm -rf "$base.new"
    debootstrap --variant=minbase --include=git,make,ca-certificates "$release" "$base.new" \
        http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
        { echo "test-fresh: debootstrap failed; see $work/debootstrap.log" >&2; exit 1; }
    mv "$base.new" "$base"
fi

# 2. This run's machine: the base, the toolchain, the kernel's modules (a
# machine has its own kernel's), the project as a git repository to clone.
stage="$work/stage"
rm -rf "$stage"
cp -a "$base" "$stage"
toolchain=$(rustup show active-toolchain | awk '{print $1}')
mkdir -p "$stage/root/.rustup/toolchains" "$stage/root/.cargo"
cp -a "$HOME/.cargo/bin" "$HOME/.cargo/env" "$stage/root/.cargo/"
cp "$HOME/.rustup/settings.toml" "$stage/root/.rustup/"
# The toolchain without its 800 MB of HTML documentation.
(cd "$HOME/.rustup/toolchains" && tar -cf - --exclude="$toolchain/share/doc" "$toolchain") |
    tar -xf - -C "$stage/root/.rustup/toolchains"
# What rustup's installer adds to a login shell.
echo '. "$HOME/.cargo/env"' >>"$stage/root/.profile"
mkdir -p "$stage/lib/modules"
cp -a "/lib/modules/$version" "$stage/lib/modules/"
git -C "$here" bundle create "$stage/root/rsns.bundle" HEAD >/dev/null 2>&1
echo "fresh-$release" >"$stage/etc/hostname"
# The network, as Debian's installer would have set it up: virtme-ng
# configures it only with a busybox in the guest's PATH, which would hide
# a missing busybox-static from make deps. A static busybox outside PATH
# brings the interface up (qemu's user-mode network: 10.0.2.0/24).
mkdir -p "$stage/opt/rsns-vm"
cp "$(command -v busybox)" "$stage/opt/rsns-vm/busybox"
echo "nameserver 10.0.2.3" >"$stage/etc/resolv.conf"
cp "$here/tests/support/fresh-guest.sh" "$stage/root/fresh-guest.sh"
# virtme-ng mounts the results directory at its host path: make the point.
out="$work/out"
mkdir -p "$stage$out"
image="$work/disk.img"
rm -f "$image"
mkfs.ext4 -q -F -L root -d "$stage" "$image" 16G
rm -rf "$stage"

# 3. Boot it, its disk read-write (it is ours, made for this run); the
# guest writes its results to the shared directory.
rm -rf "$out"
mkdir -p "$out"
chmod 777 "$out"
echo "test-fresh: Debian $release, kernel $version, in a VM (TCG: several times slower than the host)"
start=$(date +%s)
timeout 7200 "$kwork/venv/bin/vng" --run="$kernel" --root-disk="$image" --root-fstype=ext4 \
    --rw --disable-kvm --cpus=2 --memory=6G --network=user --rwdir="$out" \
    --exec="sh -l /root/fresh-guest.sh $out" >"$work/vm.log" 2>&1 || true
echo "test-fresh: the VM ran $(($(date +%s) - start)) s"
if ! [ -f "$out/done" ]; then
    echo "test-fresh: the guest did not finish; see $work/vm.log and $out/" >&2
    cat "$out/results" 2>/dev/null
    exit 1
fi
cat "$out/results"
! grep -qv ' ok ' "$out/results"
