#!/bin/sh
# Runs inside bench-vm.sh's VM. virtme-ng shares the host's file system over
# 9p without a page cache, so every exec there reads the binary anew from
# the host: 456 ms for `rs-cgroup --version` against 55 ms from the VM's
# memory, a cost that grows with the size of a binary and swamps what the
# table measures. So everything the table runs is first brought into the
# VM's memory: our side (binaries, floor, root file system) copied to a
# tmpfs, and the other side's programs and libraries copied up into the
# writable overlays virtme-ng lays over /usr (touching a file copies it up).
# Usage: bench-vm-guest.sh BENCH-DIR OUT RUNS ONLY
set -u
bench=$1 out=$2 runs=$3 only=$4
local=/var/tmp/rsns-bench
rm -rf "$local"
cp -a "$bench" "$local"
programs="true crun cgcreate cgset cgexec cgdelete"
for p in $programs; do
    path=$(command -v "$p") || continue
    path=$(readlink -f "$path")
    for f in "$path" $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*'); do
        f=$(readlink -f "$f")
        touch -c -r "$f" "$f" 2>/dev/null
    done
done
touch -c -r /etc/ld.so.cache /etc/ld.so.cache
# TCG translates guest code and keeps the translation by address. ASLR puts
# every exec's binary and libraries at new addresses, so each run's code was
# translated anew, a cost in proportion to how much distinct code a run
# executes that no CPU has: `rs-cgroup --version` took 34-44 ms with ASLR and
# 14-15 ms without, the floor's cgroup run 97-110 ms and 47-48 ms. Off in
# this throwaway VM, for every tool alike; BENCH_ASLR=1 keeps it.
if [ "${BENCH_ASLR:-0}" != 1 ]; then
    echo 0 >/proc/sys/kernel/randomize_va_space
fi
"$local/rsns-bench" --only "$only" --runs "$runs" --ours "$local/ours" \
    --floor "$local/rsns-floor" --rootfs "$local/rootfs" --bundle "$local/podman-bundle" \
    >"$out/table" 2>&1
echo $? >"$out/status"
