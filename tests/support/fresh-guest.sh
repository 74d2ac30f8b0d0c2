#!/bin/sh
# Runs inside make test-fresh's VM (test-fresh.sh), started by its PID 1:
# first what systemd and an installer would have set up (the mounts, the
# hostname, the network), then, as root in /root from a login shell (so PATH
# has ~/.cargo/bin, as rustup sets it up), each step. Writes OUT/results, one
# line per step: `STEP ok|FAILED(STATUS) SECONDS s`, each step's output to
# OUT/STEP.log, and OUT/done last.
# Usage: fresh-guest.sh OUT
set -u
out=${1:?usage: fresh-guest.sh OUT}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
# The machine is emulated (TCG), many times slower than hardware: the tests'
# deadlines (for 700 boxes to start, say) stretch as in the kernel matrix.
# Only deadlines: no check is relaxed.
export RSNS_TIME_SCALE=10
bb=/opt/rsns-vm/busybox
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
for l in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
    ln -sf "${l#*:}" "/dev/${l%%:*}"
done
hostname -F /etc/hostname
# systemd makes /dev/net/tun a static node that loads tun on first open;
# without it, load tun ourselves (pasta, for the cookbook's network, needs it).
$bb modprobe tun 2>/dev/null ||
    $bb insmod "/lib/modules/$(uname -r)/kernel/drivers/net/tun.ko" 2>/dev/null
update-ca-certificates >/dev/null 2>&1
# qemu's user-mode network: the first interface but lo.
$bb ip link set lo up
for dev in /sys/class/net/*; do
    dev=${dev##*/}
    [ "$dev" = lo ] && continue
    $bb ip link set "$dev" up
    $bb ip addr add 10.0.2.15/24 dev "$dev"
    $bb ip route add default via 10.0.2.2
    break
done
mkdir -p "$out"
: >"$out/results"
step() {
    name=$1
    shift
    start=$(date +%s)
    if "$@" >"$out/$name.log" 2>&1; then result=ok; else result="FAILED($?)"; fi
    echo "$name $result $(($(date +%s) - start)) s" >>"$out/results"
    [ "$result" = ok ]
}
{
    uname -r
    cat /etc/debian_version
    ls -ld /root
    df -h /
    ip -brief address 2>/dev/null || cat /proc/net/dev
} >"$out/machine.txt" 2>&1

cd /root || exit 1
# As a login shell would have it (rustup's line in ~/.profile), which
# Debian's .profile writes for a shell without set -u.
set +u
. /root/.profile
set -u
step clone git clone /root/rsns.bundle rsns &&
    cd rsns &&
    step make-demo make demo &&
    step make-test make test
# The package, installed as a user would (apt resolves its dependencies),
# then each tool's --version, man page and a completion. man-db and
# bash-completion are what a user who reads man pages and completes with
# TAB has; a minbase machine has neither.
tools="rs-unshare rs-nsenter rs-lsns rs-pivot rs-cgroup rs-setpriv"
installed() {
    apt-get install -y -q man-db bash-completion ./target/deb/rsns_*_amd64.deb &&
        for t in $tools; do
            "/usr/bin/$t" --version && man -w "$t" || return 1
        done
}
completes() {
    # rs-lsns -t <TAB>: the namespace types, from the installed completion.
    got=$(bash -c '. /usr/share/bash-completion/bash_completion
        _completion_loader rs-lsns
        fn=$(complete -p rs-lsns | sed "s/.*-F \([^ ]*\).*/\1/")
        COMP_WORDS=(rs-lsns -t ""); COMP_CWORD=2; COMP_LINE="rs-lsns -t "; COMP_POINT=${#COMP_LINE}
        $fn rs-lsns "" -t; echo "${COMPREPLY[*]}"')
    echo "rs-lsns -t <TAB>: $got"
    [ "$got" = "user mnt uts ipc net pid cgroup time" ]
}
[ -d /root/rsns ] && cd /root/rsns &&
    step make-deb make deb &&
    step deb-installs installed &&
    step deb-completes completes
date +%s >"$out/done"
