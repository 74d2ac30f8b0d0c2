#!/bin/sh
# The demo of `make demo`: a busybox "container" started with one rs-unshare
# command line, as whoever runs it (root is not needed): its own user, PID,
# mount, IPC, UTS and network namespaces, its own root and its own /proc.
set -eu
bin=${1:?usage: demo.sh RS_UNSHARE ROOTFS}
rootfs=${2:?usage: demo.sh RS_UNSHARE ROOTFS}
# Absolute: the finale runs from a directory of its own.
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

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
while [ ! -s "$pidfile" ]; do
    kill -0 "$box" 2>/dev/null || { echo "demo: the box ended before it started" >&2; exit 1; }
    sleep 0.05
done
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

# The finale of docs/cookbook.md: a web server in a whole box (layers, its
# own /dev, /proc and /sys, a read-only root, a writable /tmp, --init, a
# network), as tight as podman's default (docs/isolation.md): podman's
# capabilities and seccomp profile, and as root the device policy of a
# cgroup of its own. Fetched from outside, then gone with one kill. As root
# the network is a veth pair; as an ordinary user, pasta.
site=$(mktemp -d /tmp/rsns-demo-site-XXXXXX)
trap 'rm -rf "$work" "$site"' EXIT
mkdir -p "$site/layer/www" "$site/upper" "$site/work" "$site/merged"
echo "hello from the box" >"$site/layer/www/index.html"
cd "$site"
if [ "$(id -u)" = 0 ]; then
    flags=-pfmiunC cgroup="$bindir/rs-cgroup --devices=container --"
    shown="rs-cgroup --devices=container -- rs-unshare $flags"
else
    flags=-Urpfmiun cgroup= shown="rs-unshare $flags"
fi
echo
echo "\$ $shown --init sh -c 'mount -t overlay ... && exec rs-pivot --root merged --ro --dev --proc --sys --tmpfs=/tmp --caps=container --seccomp=container -- busybox httpd -f -p 8080 -h /www' &"
PATH="$bindir:$PATH" $cgroup "$bin" $flags --init --pid-file=box.pid sh -c '
    mount -t overlay overlay -o "lowerdir=layer:$1,upperdir=upper,workdir=work" merged &&
    exec rs-pivot --root merged --ro --dev --proc --sys --tmpfs=/tmp \
        --caps=container --seccomp=container -- busybox httpd -f -p 8080 -h /www
' sh "$(cd "$OLDPWD" && cd "$rootfs" && pwd)" &
box=$!
while [ ! -s box.pid ]; do
    kill -0 "$box" 2>/dev/null || { echo "demo: the box ended before it started" >&2; exit 1; }
    sleep 0.05
done
if [ "$(id -u)" = 0 ]; then
    veth=rsns-demo$$
    ip link add "$veth" type veth peer name eth0 netns "$(cat box.pid)"
    ip addr add 198.18.0.9/30 dev "$veth" && ip link set "$veth" up
    "$bindir/rs-nsenter" -t "$(cat box.pid)" -n sh -c \
        'ip link set lo up && ip addr add 198.18.0.10/30 dev eth0 && ip link set eth0 up'
    url=http://198.18.0.10:8080/
    echo "\$ ip link add $veth type veth peer name eth0 netns \$(cat box.pid); ip addr ...; busybox wget -q -O - $url"
else
    pasta --quiet --config-net -P pasta.pid -t 18080:8080 "$(cat box.pid)" >pasta.log 2>&1
    url=http://127.0.0.1:18080/
    echo "\$ pasta --config-net -t 18080:8080 \$(cat box.pid); busybox wget -q -O - $url"
fi
echo "outside: $(busybox wget -q -O - "$url")"
# What the kernel says of the server: podman's 11 capabilities, a filter.
server=$(cat "/proc/$(cat box.pid)/task/$(cat box.pid)/children")
echo "outside: the server holds $(awk '$1 == "CapEff:" { printf "CapEff %s (podman'"'"'s 11), ", $2 }
    $1 == "Seccomp:" { printf "Seccomp %s (a filter)", $2 }' "/proc/${server% }/status")"
echo "inside:  $("$bindir/rs-nsenter" -t "$(cat box.pid)" -a $( [ "$(id -u)" = 0 ] || echo --preserve-credentials ) \
    sh -c 'printf "%s entries in /dev, PID 1 is %s, the root: " "$(ls /dev | wc -l)" "$(cat /proc/1/comm)"
           touch /etc/x 2>&1 | sed "s/^touch: //"')"
kill "$(cat box.pid)"
[ -s pasta.pid ] && kill "$(cat pasta.pid)" 2>/dev/null
wait "$box" 2>/dev/null || true
echo "outside: after one kill, nothing is left (the box, its mounts, its network)"
