#!/bin/sh
# make test-fresh: the README's two commands on a fresh Debian machine.
#
# Builds a Debian root as a new machine has it (debootstrap minbase, plus
# git, make and ca-certificates, and the Rust toolchain copied in as rustup
# would install it for root; nothing else) on an ext4 disk image, and boots
# it in qemu (TCG) on that release's own kernel, the disk as the root file
# system of the initial mount namespace, with user-mode networking for
# Debian's archive and crates.io. No virtme-ng here: it would mount its own
# things over /etc, /var and /tmp. Our initramfs only loads the modules for
# the disk and the network and switches to the disk; there PID 1 mounts what
# systemd would (proc, sys, cgroup2, devpts, /run), brings the network up
# and runs tests/support/fresh-guest.sh as root in /root (a 0700 home): git
# clone, make demo, make test, make deb, the package installed with apt and
# each tool's --version, man -w and a completion. Prints each step's outcome
# and time.
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
# machine has its own kernel's), the project as a git bundle to clone.
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
echo "nameserver 10.0.2.3" >"$stage/etc/resolv.conf"
# The host's local certificate authorities (a network that inspects TLS, as
# some CI networks do, needs them; the guest runs update-ca-certificates).
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    mkdir -p "$stage/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$stage/usr/local/share/ca-certificates/"
fi
# What an installer and systemd would have done: PID 1 (vm-init.pl, perl is
# in every Debian), the mounts and the network (with a static busybox kept
# outside PATH, so a busybox-static missing from make deps is not hidden).
mkdir -p "$stage/opt/rsns-vm"
cp "$(command -v busybox)" "$stage/opt/rsns-vm/busybox"
cp "$here/tests/support/fresh-vm-init.pl" "$stage/opt/rsns-vm/init"
cp "$here/tests/support/fresh-guest.sh" "$stage/opt/rsns-vm/guest.sh"
chmod 755 "$stage/opt/rsns-vm/init" "$stage/opt/rsns-vm/guest.sh"
image="$work/disk.img"
rm -f "$image"
mkfs.ext4 -q -F -L root -d "$stage" "$image" 16G
rm -rf "$stage"

# 3. The initramfs: a static busybox and the modules for the disk and the
# network, in the order modprobe would load them (decompressed: busybox's
# insmod may not read .xz).
initrd="$work/initrd"
rm -rf "$initrd"
mkdir -p "$initrd/bin" "$initrd/mod"
cp "$(command -v busybox)" "$initrd/bin/busybox"
for m in virtio_pci virtio_blk virtio_net crc32c_generic ext4; do
    modprobe --show-depends -S "$version" "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | {
    n=100
    while read -r ko; do
        n=$((n + 1))
        case "$ko" in
        *.xz) xz -dc "$ko" >"$initrd/mod/$n.ko" ;;
        *.zst) zstd -qdc "$ko" >"$initrd/mod/$n.ko" ;;
        *) cp "$ko" "$initrd/mod/$n.ko" ;;
        esac
    done
}
cat >"$initrd/init" <<'INIT'
#!/bin/busybox sh
bb=/bin/busybox
$bb mkdir -p /proc /dev /newroot
$bb mount -t proc proc /proc
$bb mount -t devtmpfs dev /dev
for m in /mod/*.ko; do $bb insmod "$m" 2>/dev/null; done
i=0
while ! [ -b /dev/vda ] && [ $i -lt 300 ]; do $bb sleep 0.1; i=$((i + 1)); done
$bb mount -t ext4 -o rw /dev/vda /newroot || { echo "initramfs: no root disk"; $bb poweroff -f; }
$bb umount /proc
$bb mount --move /dev /newroot/dev
exec $bb switch_root /newroot /opt/rsns-vm/init
INIT
chmod 755 "$initrd/init"
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.img"

# 4. Boot. The guest writes its results to /root/fresh-out on its disk,
# read back with debugfs once qemu has exited.
echo "test-fresh: Debian $release, kernel $version, in qemu (TCG: several times slower than the host)"
start=$(date +%s)
timeout 7200 qemu-system-x86_64 -accel tcg -m 6G -smp 2 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initrd.img" \
    -append "console=ttyS0 panic=-1 quiet" \
    -drive "file=$image,format=raw,if=virtio" \
    -netdev user,id=net0 -device virtio-net-pci,netdev=net0 \
    </dev/null >"$work/vm.log" 2>&1 || true
echo "test-fresh: the VM ran $(($(date +%s) - start)) s"
out="$work/out"
rm -rf "$out" "$work/fresh-out"
debugfs -R "rdump /root/fresh-out $work" "$image" >/dev/null 2>&1 || true
[ -d "$work/fresh-out" ] && mv "$work/fresh-out" "$out"
if ! [ -f "$out/done" ]; then
    echo "test-fresh: the guest did not finish; see $work/vm.log and $out/" >&2
    cat "$out/results" 2>/dev/null
    exit 1
fi
cat "$out/results"
! grep -qv ' ok ' "$out/results"
