#!/bin/sh
# make test-kernels: the test suite on the kernels people run, each booted
# in a VM (qemu under TCG, through virtme-ng, with this machine's file system
# shared read-only), plus the host's own kernel natively; one table at the end.
#
# Usage: kernel-matrix.sh WORKDIR [SERIES...]    (default: 5.10 6.1 6.12)
# RSNS_MATRIX_ONLY="cgroup cookbook": only these test executables (while
# working on them; the matrix is the whole suite).
#
# Kernels are Debian's own (tests/support/kernels.sh fetches them, without
# touching the machine's apt setup). The test executables are built once on the host
# (cargo test --no-run) and run unchanged inside: as root, and as the
# unprivileged test user where a test asks for it. /dev/kvm is not used: a
# stock kernel hangs under it here, since this machine is a VM itself.
set -eu
work=${1:?usage: kernel-matrix.sh WORKDIR [SERIES...]}
shift
series=${*:-5.10 6.1 6.12}
here=$(cd "$(dirname "$0")/../.." && pwd)
cargo=${CARGO:-cargo}
# The VMs mount a tmpfs of their own on /tmp (in-vm.sh), which would hide a
# checkout there, and every kernel would end with an empty console.
case "$here/" in
/tmp/*)
    echo "kernel-matrix: the checkout is under /tmp ($here), which the VMs cover with a tmpfs of their own; clone it elsewhere" >&2
    exit 1
    ;;
esac
mkdir -p "$work"
work=$(cd "$work" && pwd)

# 0-1. virtme-ng and the kernels (tests/support/kernels.sh).
kernels=$("$here/tests/support/kernels.sh" "$work" $series)
vng="$work/venv/bin/vng"
# vng runs its helpers (virtme-run) by name: they are in the venv.
export PATH="$work/venv/bin:$PATH"

# 2. The tests, built once into a target directory of the matrix's own (a
# rebuild on the host while a VM runs must not swap its binaries); the root
# file system they use, made once.
"$here/tests/support/test-user.sh"
export CARGO_TARGET_DIR="$work/target"
# Test executables only (built with the test profile), not the tools.
# A build that fails must stop here: the executables left from an earlier
# build would otherwise run, testing old code.
built="$CARGO_TARGET_DIR/matrix-build.json"
mkdir -p "$CARGO_TARGET_DIR"
if ! (cd "$here" && $cargo test --workspace --locked --no-run --message-format=json >"$built" 2>"$built.err"); then
    tail -20 "$built.err" >&2
    echo "kernel-matrix: the tests did not build (above)" >&2
    exit 1
fi
tests=$(python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["profile"]["test"] and m.get("executable"):
        print(m["executable"])' <"$built" | sort)
if [ -n "${RSNS_MATRIX_ONLY:-}" ]; then
    tests=$(for t in $RSNS_MATRIX_ONLY; do echo "$tests" | grep "/${t}-[0-9a-f]*\$"; done)
fi
[ -n "$tests" ] || { echo "kernel-matrix: the tests did not build" >&2; exit 1; }
# bwrap 0.11 or later, for the overlay parity test (the VMs see this path).
bwrap_new=$("$here/tests/support/bwrap-new.sh" "$CARGO_TARGET_DIR/bwrap-new") || bwrap_new=""
target_tmp="$CARGO_TARGET_DIR/tmp"
# The cookbook's arm64 busybox, fetched here: the VMs have no network, and
# find it in this cache (the cookbook's runner points the recipe at it).
RSNS_FOREIGN_CACHE="$target_tmp/foreign" "$here/tests/support/foreign-busybox.sh" \
    "$target_tmp/foreign-fetch" >/dev/null || true
[ -x "$target_tmp/rootfs/bin/busybox" ] && [ -d "$target_tmp/rootfs/mnt" ] ||
    "$here/tests/support/mkrootfs.sh" "$target_tmp/rootfs" >/dev/null

# 3. Each kernel in a VM, then the host natively. In a VM a test may skip
# for a feature the kernel lacks (the table says which and why), so CI's
# RSNS_REQUIRE_ALL=1 applies to the host's row only. Two load tests of rs-lsns
# (700 boxes; a scan under namespace churn) test our scan, not the kernel's
# features, and take a quarter of an hour each on an emulated CPU: the VMs
# skip them, the host runs them (and make test does everywhere).
vm_skip="--skip seven_hundred_boxes_are_all_listed --skip a_scan_under_churn_always_succeeds_and_stays_consistent"
row() {
    # kernel passed failed skipped-summary seconds
    printf '| %-22s | %6s | %6s | %-60s | %6s |\n' "$1" "$2" "$3" "$4" "$5"
}
summary=""
slowest=""
run_in() {
    out=$1
    passed=$(awk '{s+=$2} END {print s+0}' "$out/results")
    failed=$(awk '{s+=$3} END {print s+0}' "$out/results")
    skips=$(sort "$out/skipped.log" | uniq -c | sort -rn | awk '{n=$1; $1=""; printf "%s%d:%s", sep, n, $0; sep="; "}')
    nskip=$(wc -l <"$out/skipped.log")
    echo "$passed $failed $nskip ${skips:-none}"
}
status=0
oldest=$(for k in $kernels; do echo "$k"; done | sort -V | head -1)
for k in $kernels host; do
    if [ "$k" = host ]; then
        name="host $(uname -r)"
        out="$work/out/host"
    else
        name=$(basename "$k" | sed 's/^vmlinuz-//')
        out="$work/out/$name"
    fi
    rm -rf "$out"
    mkdir -p "$out"
    chmod 777 "$out"
    echo "$tests" >"$out/tests"
    # The racer tests (a rename-exchange loop against rs-pivot, 20 runs a
    # case under emulation: 410 s of 6.1's VM) run on the oldest kernel
    # asked for and on the host: between them they take both of rs-pivot's
    # mount-flag paths (remount by descriptor before Linux 5.12,
    # mount_setattr after) and the same openat2 lookups as any other.
    if [ "$k" != host ] && [ "$(basename "$k")" != "$(basename "$oldest")" ] &&
        grep -q '/pivot_races-' "$out/tests"; then
        grep -v '/pivot_races-' "$out/tests" >"$out/tests.new" && mv "$out/tests.new" "$out/tests"
        races_skipped=yes
    else
        races_skipped=""
    fi
    start=$(date +%s)
    if [ "$k" = host ]; then
        RSNS_VM_SKIP="" RSNS_BWRAP_NEW="$bwrap_new" "$here/tests/support/in-vm.sh" "$out"
    else
        timeout 3000 "$vng" --run="$k" --disable-kvm --cpus=2 --memory=3G --rwdir="$out" \
            --exec="RSNS_IN_VM=1 RSNS_RELEASE_DIR='${RSNS_RELEASE_DIR:-}' RSNS_BWRAP_NEW='$bwrap_new' RSNS_ROOTFS_SRC='$target_tmp/rootfs' RSNS_REQUIRE_ALL=0 RSNS_VM_SKIP='$vm_skip' $here/tests/support/in-vm.sh $out" \
            >"$work/vm-$name.log" 2>&1 || true
    fi
    seconds=$(($(date +%s) - start))
    if ! [ -f "$out/done" ]; then
        echo "kernel-matrix: $name did not finish; see $work/vm-$name.log" >&2
        # CI keeps only this output: what was running, what its processes
        # were doing (in-vm.sh's report) and the console's last words.
        if [ -f "$out/running" ]; then
            set -- $(cat "$out/running")
            echo "  running: $1, for $(($(date +%s) - $2)) s; done before it:" >&2
            awk '{printf "%s %ss, ", $1, $5}' "$out/results" | fold -w 160 | sed 's/^/    /' >&2
            echo >&2
            tail -60 "$out/log/$1" | sed 's/^/    /' >&2
        fi
        echo "  the console's last lines:" >&2
        tail -40 "$work/vm-$name.log" | sed 's/^/    /' >&2
        summary="$summary$(row "$name" "-" "-" "did not finish" "$seconds")
"
        status=1
        # The next kernels would not finish within CI's time either: the run
        # ends now, with this said, rather than be cut off saying nothing.
        echo "kernel-matrix: the kernels after $name are not run" >&2
        break
    fi
    # (in-vm.sh starts skipped.log afresh: the note goes in after it.)
    if [ -n "$races_skipped" ]; then
        echo "pivot_races: the racer tests run on the oldest kernel ($(basename "$oldest" | sed 's/^vmlinuz-//')) and the host" >>"$out/skipped.log"
    fi
    set -- $(run_in "$out")
    passed=$1 failed=$2 nskip=$3
    shift 3
    [ "$failed" = 0 ] || status=1
    summary="$summary$(row "$name" "$passed" "$failed" "$nskip ($*)" "$seconds")
"
    # Where the time went (CI keeps only this output): the slowest five.
    slowest="$slowest$name: $(sort -k5,5nr "$out/results" | head -5 | awk '{printf "%s%s %ss", sep, $1, $5; sep=", "}')
"
    if [ "$failed" != 0 ]; then
        # Each failing file, and its panics with a few lines of what they
        # said: CI keeps only this output, not the VM's logs.
        for log in $(grep -l "FAILED\|panicked" "$out"/log/* 2>/dev/null); do
            echo "  failures in $log" >&2
            grep -A12 "panicked" "$log" | head -60 | sed 's/^/    /' >&2
            # A test killed for taking too long: in-vm.sh's report of it.
            sed -n '/still running after/,$p' "$log" | head -60 | sed 's/^/    /' >&2
        done
    fi
done
echo
row kernel passed failed "skipped (reasons)" seconds
row ---------------------- ------ ------ ------------------------------------------------------------ ------
printf '%s' "$summary"
echo
printf 'slowest test executables\n%s' "$slowest"
exit "$status"
