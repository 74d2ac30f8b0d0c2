#!/bin/sh
# Runs inside make test-fresh's VM (test-fresh.sh), as root on the fresh
# machine, from a login shell (so PATH has ~/.cargo/bin, as rustup sets it
# up). Writes OUT/results, one line per step: `STEP ok|FAILED SECONDS s`,
# each step's output to OUT/STEP.log, and OUT/done last.
# Usage: fresh-guest.sh OUT
set -u
out=${1:?usage: fresh-guest.sh OUT}
: >"$out/results"
step() {
    name=$1
    shift
    start=$(date +%s)
    if "$@" >"$out/$name.log" 2>&1; then result=ok; else result="FAILED($?)"; fi
    echo "$name $result $(($(date +%s) - start)) s" >>"$out/results"
    [ "$result" = ok ]
}
# The network (see test-fresh.sh): the first interface but lo.
bb=/opt/rsns-vm/busybox
for dev in /sys/class/net/*; do
    dev=${dev##*/}
    [ "$dev" = lo ] && continue
    $bb ip link set lo up
    $bb ip link set "$dev" up
    $bb ip addr add 10.0.2.15/24 dev "$dev"
    $bb ip route add default via 10.0.2.2
    break
done
{
    uname -r
    cat /etc/debian_version
    ls -ld /root
    df -h /
    ip -brief address 2>/dev/null || cat /proc/net/dev
} >"$out/machine.txt" 2>&1

cd /root || exit 1
step clone git clone /root/rsns.bundle rsns &&
    cd rsns &&
    step make-demo make demo &&
    step make-test make test
# The package, installed as a user would (apt resolves its dependencies),
# then each tool's --version, man page and a completion. man-db and
# bash-completion are what a user who reads man pages and completes with
# TAB has; a minbase machine has neither.
tools="rs-unshare rs-nsenter rs-lsns rs-pivot rs-cgroup"
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
