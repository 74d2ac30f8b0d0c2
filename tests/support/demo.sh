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
