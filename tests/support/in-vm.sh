#!/bin/sh
# Runs inside a kernel-matrix VM (kernel-matrix.sh): every test executable
# listed in OUT/tests, one after the other, as root (the tests switch to the
# unprivileged test user themselves). Writes OUT/results: one line per test
# executable, `NAME PASSED FAILED STATUS SECONDS`, the skips to OUT/skipped.log, the
# output of each to OUT/log/NAME, and OUT/done last.
# RSNS_VM_SKIP: `--skip NAME` arguments for tests too heavy for an emulated
# CPU (kernel-matrix.sh says which, and why).
# Usage: in-vm.sh OUT
set -u
out=${1:?usage: in-vm.sh OUT}
mkdir -p "$out/log"
: >"$out/results"
: >"$out/skipped.log"
chmod 666 "$out/skipped.log"
uname -r >"$out/kernel"
# The guest's root is the host's, read-only, and virtme-ng's /tmp is an
# overlay on it, which overlayfs refuses as an upper layer (the cookbook's
# image layers): scratch space is a tmpfs of its own. Only in the VM: on the
# host this would hide /tmp.
if [ "${RSNS_IN_VM:-}" = 1 ]; then
    mount -t tmpfs tmpfs /tmp
    # As systemd mounts a unified hierarchy: cgroup namespaces are
    # delegation boundaries (rs-cgroup's group holds its program).
    if grep -q ' /sys/fs/cgroup .* - cgroup2 ' /proc/self/mountinfo; then
        mount -o remount,nsdelegate /sys/fs/cgroup || true
    fi
    # RSNS_RACE_RUNS: fewer racer runs per case under emulation, where a run
    # takes two or three seconds (20 runs per case: 547 s of 5.10's 1999
    # in CI). keep-old, where one run in twenty gets through, runs twenty
    # whatever this says. The host's row runs 300.
    export RSNS_RACE_RUNS=${RSNS_RACE_RUNS:-12}
    # The tests' root file system, copied once into the guest's tmpfs: a
    # copy from the host's read-only share (9p) takes 40 s under emulation
    # (cp -a; tar, 5 s), one from the tmpfs 0.4 s, and tests make dozens.
    if [ -n "${RSNS_ROOTFS_SRC:-}" ] && [ -x "$RSNS_ROOTFS_SRC/bin/busybox" ]; then
        mkdir -p /tmp/rsns-rootfs
        tar -C "$RSNS_ROOTFS_SRC" -cf - . | tar -C /tmp/rsns-rootfs -xpf -
        export RSNS_ROOTFS=/tmp/rsns-rootfs
    fi
fi
# Modules a test uses that a user namespace cannot load on demand (overlay
# for the cookbook's layers, veth and tun for the network tests).
for m in overlay veth tun; do modprobe -q "$m" 2>/dev/null || true; done
# Every process's state and kernel stack, and the kernel's blocked tasks.
hang_report() {
    echo "in-vm: $name still running after 880 s; its processes:"
    ps -eo pid,ppid,stat,wchan:30,etimes,args | grep -v ' \[.*\]$'
    for p in $(ps -eo pid=,stat= | awk '$2 ~ /^[Dt]/ {print $1}'); do
        echo "-- kernel stack of $p ($(cat /proc/"$p"/comm 2>/dev/null)):"
        cat /proc/"$p"/stack 2>/dev/null
    done
    [ "${RSNS_IN_VM:-}" != 1 ] || echo w >/proc/sysrq-trigger 2>/dev/null
}
export RSNS_SKIP_LOG="$out/skipped.log"
export RUST_BACKTRACE=0
# Emulated CPUs are several times slower: tests wait longer (never assert).
export RSNS_TIME_SCALE=10
while read -r exe; do
    name=$(basename "$exe" | sed 's/-[0-9a-f]*$//')
    began=$(date +%s)
    # Two slow CPUs: two tests at a time.
    # shellcheck disable=SC2086 # one --skip NAME pair per word
    # Signals a shell that started us in the background ignores (SIGINT,
    # SIGQUIT) would stay ignored in the tests: give them back their default.
    # A hung test fails its executable after 15 minutes (the slowest takes
    # about 3 under emulation) instead of the whole VM's time.
    echo "$name $began" >"$out/running"
    # Shortly before that, what every process is doing goes into the log
    # (and the kernel's list of blocked tasks to the console), so a hang
    # says where it hung: CI keeps no VM.
    (
        trap 'kill "$nap" 2>/dev/null; exit 0' TERM
        sleep 880 &
        nap=$!
        wait "$nap" && hang_report >>"$out/log/$name" 2>&1
    ) &
    watchdog=$!
    timeout -k 10 900 env --default-signal "$exe" --test-threads=2 $RSNS_VM_SKIP \
        >"$out/log/$name" 2>&1
    status=$?
    kill "$watchdog" 2>/dev/null
    passed=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$out/log/$name" | awk '{s+=$1} END {print s+0}')
    failed=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$out/log/$name" | awk '{s+=$1} END {print s+0}')
    # Killed, or crashed before its summary: a failure all the same.
    if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
        failed=1
        echo "in-vm: $name ended with status $status before reporting a failure" >>"$out/log/$name"
    fi
    echo "$name $passed $failed $status $(($(date +%s) - began))" >>"$out/results"
done <"$out/tests"
date +%s >"$out/done"
