#!/bin/sh
# make bench's rs-cgroup table and the finale against crun where the host
# cannot run them (its memory and pids controllers are in cgroup v1): in a VM booting Debian's 6.12 kernel,
# whose cgroup v2 has every controller, with this machine's file system
# shared read-only so the same binaries run. Under emulation (TCG) every
# figure is several times slower than on the host; the ratios are what the
# table is for.
#
# Usage: bench-vm.sh WORKDIR BENCH-DIR RUNS
#   WORKDIR: where kernels.sh keeps the kernels (the kernel matrix's too);
#   BENCH-DIR: make bench's copies (ours/rs-cgroup, rsns-floor, rsns-bench).
set -eu
work=${1:?usage: bench-vm.sh WORKDIR BENCH-DIR RUNS}
bench=$(cd "${2:?}" && pwd)
runs=${3:?}
here=$(cd "$(dirname "$0")/../.." && pwd)
series=${BENCH_KERNEL:-6.12}
kernel=$("$here/tests/support/kernels.sh" "$work" "$series")
work=$(cd "$work" && pwd)
out="$work/bench-out"
rm -rf "$out"
mkdir -p "$out"
aslr=off
[ "${BENCH_ASLR:-0}" = 1 ] && aslr=on
echo "rs-cgroup and the finale: in a VM on Debian's $series kernel (TCG: times are emulated, ratios count; ASLR $aslr in the VM, see bench-vm-guest.sh)"
PATH="$work/venv/bin:$PATH" timeout 3000 "$work/venv/bin/vng" --run="$kernel" --disable-kvm --cpus=2 --memory=2G \
    --rwdir="$out" --exec="env BENCH_ASLR=${BENCH_ASLR:-0} $here/tests/support/bench-vm-guest.sh $bench $out $runs \
        ${BENCH_ONLY:-cgroup,finale}" \
    >"$work/vm-bench.log" 2>&1 || true
if ! [ -f "$out/status" ]; then
    echo "bench-vm: the VM did not finish; see $work/vm-bench.log" >&2
    exit 1
fi
cat "$out/table"
exit "$(cat "$out/status")"
