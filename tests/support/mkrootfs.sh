#!/bin/sh
# Builds a tiny root file system from Debian's static busybox (package
# busybox-static): one binary plus a symlink per applet, /etc/passwd and
# /etc/group, and empty /proc, /sys, /dev and /tmp to mount on.
# Usage: mkrootfs.sh DIR     (DIR is replaced atomically)
set -eu

dest=${1:?usage: mkrootfs.sh DIR}
busybox=${BUSYBOX:-$(command -v busybox || true)}
if [ -z "$busybox" ] || ! [ -x "$busybox" ]; then
    echo "mkrootfs: busybox not found; install the busybox-static package" >&2
    exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
    echo "mkrootfs: $busybox is linked dynamically; install busybox-static" >&2
    exit 1
fi

tmp="$dest.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
for d in bin sbin usr/bin usr/sbin proc sys dev tmp etc root mnt; do
    mkdir -p "$tmp/$d"
done
cp "$busybox" "$tmp/bin/busybox"
for applet in $("$tmp/bin/busybox" --list-full); do
    [ "$applet" = bin/busybox ] && continue
    ln -sf /bin/busybox "$tmp/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$tmp/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/etc/group"
echo box >"$tmp/etc/hostname"
chmod 1777 "$tmp/tmp"
chmod -R a+rX "$tmp"

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "mkrootfs: busybox root file system in $dest"
