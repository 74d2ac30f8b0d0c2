#!/bin/sh
# The demo of `make demo`: a busybox "container" started with one rs-unshare
# command line, as whoever runs it (root is not needed): its own user, PID,
# mount, IPC, UTS and network namespaces, its own root and its own /proc.
set -eu
bin=${1:?usage: demo.sh RS_UNSHARE ROOTFS}
rootfs=${2:?usage: demo.sh RS_UNSHARE ROOTFS}

cat <<EOT
\$ rs-unshare -Urpfmiun --mount-proc --root=$rootfs /bin/sh -c '...'
EOT
"$bin" -Urpfmiun --mount-proc --root="$rootfs" /bin/sh -c '
    hostname box
    echo "inside:  hostname $(hostname), uid $(id -u), this shell is PID $$"
    echo "inside:  network interfaces: $(ip -o link | cut -d: -f2 | tr -d " " | tr "\n" " ")"
    echo "inside:  processes:"
    ps -o pid,user,comm | sed "s/^/           /"
'
echo "outside: hostname $(hostname), uid $(id -u), $(ls /proc | grep -c '^[0-9]') processes"

# The same box seen from outside with rs-lsns: its namespaces, and who is in them.
lsns="$(dirname "$bin")/rs-lsns"
pidfile=$(mktemp -u /tmp/rsns-demo-XXXXXX.pid)
"$bin" -Urpfmiun --root="$rootfs" --pid-file="$pidfile" /bin/sleep 60 &
box=$!
while [ ! -s "$pidfile" ]; do sleep 0.05; done
echo "\$ rs-lsns -p \$(cat box.pid)"
"$lsns" -p "$(cat "$pidfile")"
kill "$box"
wait "$box" 2>/dev/null || true
rm -f "$pidfile"

# The same kind of box with its root made of image layers (overlayfs) and
# entered with rs-pivot: a write inside lands in the writable layer only.
bindir=$(cd "$(dirname "$bin")" && pwd)
work=$(mktemp -d /tmp/rsns-demo-layers-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/app/etc" "$work/upper" "$work/work" "$work/merged"
echo "hello from the app layer" >"$work/app/etc/motd"
echo
echo "\$ rs-unshare -Urpfmiun sh -c 'mount -t overlay ... merged && mount -t proc proc merged/proc && exec rs-pivot --root merged -- /bin/sh -c ...'"
PATH="$bindir:$PATH" "$bin" -Urpfmiun sh -c '
    cd "$1" && mount -t overlay overlay -o "lowerdir=app:$2,upperdir=upper,workdir=work" merged &&
    mount -t proc proc merged/proc &&
    exec rs-pivot --root merged -- /bin/sh -c "
        echo \"inside:  \$(cat /etc/motd); root is the overlay: \$(grep -c overlay /proc/self/mountinfo) mount\"
        echo written inside >/etc/note
        echo \"inside:  processes: \$(ps -o pid= | wc -l), PID 1 is \$(cat /proc/1/comm)\""
' sh "$work" "$(cd "$rootfs" && pwd)"
echo "outside: the write is in the upper layer only: upper/etc has $(ls "$work/upper/etc"), app/etc has $(ls "$work/app/etc")"
