#!/bin/sh
# make conformance: util-linux's own regression tests, run against our tools.
#
# Usage: conformance.sh BINDIR WORKDIR
#   BINDIR   holds rs-unshare, rs-nsenter and rs-lsns
#   WORKDIR  scratch space (the source, its build, the views)
#
# Fetches the newest util-linux source from Debian's archive (sid, through a
# private sources list and private package lists: the machine's apt setup is
# not touched), builds with meson only what the tests need, then runs every
# test that exercises unshare, nsenter or lsns (found by the TS_CMD_* it
# uses, so new ones are picked up) twice: against util-linux's freshly built
# tools, so a failure is known to be ours and not the harness's, and against
# a build-directory view in which unshare, nsenter, lsns and setpriv are ours.
#
# A test that fails or skips against ours fails the run, unless it is listed
# with its reason in tests/conformance-known.txt (see docs/conformance.md).
# Prints one line per test and "N passed, N failed, N skipped".
set -eu

bindir=$(cd "${1:?usage: conformance.sh BINDIR WORKDIR}" && pwd)
work=${2:?usage: conformance.sh BINDIR WORKDIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
known="$here/tests/conformance-known.txt"
mkdir -p "$work"
work=$(cd "$work" && pwd)

# 1. The source: the orig tarball holds tests/.
apt_private() {
    mkdir -p "$work/apt/lists/partial" "$work/apt/parts"
    echo "deb-src http://deb.debian.org/debian sid main" >"$work/apt/sources.list"
    apt-get -q -o Dir::Etc::SourceList="$work/apt/sources.list" \
        -o Dir::Etc::SourceParts="$work/apt/parts" \
        -o Dir::State::Lists="$work/apt/lists" "$@"
}
src=$(ls -d "$work"/util-linux-*/ 2>/dev/null | head -1 || true)
if [ -z "$src" ]; then
    apt_private update >/dev/null
    # The .dsc may be gone from a mirror while the orig tarball is there:
    # the tarball is all we need.
    (cd "$work" && apt_private source --download-only util-linux >/dev/null 2>&1) || true
    tarball=$(ls "$work"/util-linux_*.orig.tar.* 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$tarball" ]; then
        echo "conformance: could not fetch util-linux's source from Debian (sid)" >&2
        exit 1
    fi
    tar -C "$work" -xf "$tarball"
    src=$(ls -d "$work"/util-linux-*/ | head -1)
fi
src=${src%/}
version=${src##*/util-linux-}

# 2. Build only what the tests use.
build="$work/build"
if ! [ -x "$build/test_mkfds" ] || ! [ -x "$build/test_canonicalize" ]; then
    rm -rf "$build"
    meson setup "$build" "$src" -Dauto_features=disabled \
        -Dbuild-libsmartcols=enabled -Dbuild-libmount=enabled -Dbuild-libblkid=enabled \
        -Dbuild-lsfd=enabled -Dbuild-lsns=enabled -Dbuild-nsenter=enabled \
        -Dbuild-unshare=enabled -Dbuild-getino=enabled -Dbuild-kill=enabled \
        -Dbuild-mount=enabled -Dbuild-setpriv=enabled -Dbuild-enosys=enabled \
        >"$work/meson.log" 2>&1 ||
        { tail -20 "$work/meson.log" >&2; exit 1; }
    ninja -C "$build" test_mkfds test_sysinfo test_procfs test_sigreceive test_enosys \
        test_canonicalize lsfd \
        getino lsns nsenter unshare setpriv enosys kill mount umount >"$work/ninja.log" 2>&1 ||
        { tail -20 "$work/ninja.log" >&2; exit 1; }
fi

# 3. A view of the build directory where the plain names are ours.
view="$work/view"
rm -rf "$view"
mkdir -p "$view/tests"
for f in "$build"/*; do
    [ "${f##*/}" = tests ] || ln -s "$f" "$view/"
done
for tool in unshare nsenter lsns setpriv; do
    rm -f "$view/$tool"
    ln -s "$bindir/rs-$tool" "$view/$tool"
done

# 4. Every test that runs one of our tools.
tests=$(cd "$src/tests/ts" && find . -mindepth 2 -maxdepth 2 -type f |
    xargs grep -lE 'TS_CMD_(UNSHARE|NSENTER|LSNS|SETPRIV)\b' | sed 's|^\./||' | sort)

# A run that was interrupted can leave the tests' own network namespaces
# (and their ids) behind, which skews the NETNSID tests: remove them.
for ns in $(ip netns list 2>/dev/null | awk '/^LSNS-TEST-/ {print $1}'); do
    ip netns delete "$ns" || true
done

# One test, against one build directory: OK, FAILED or SKIPPED (reason).
run_one() {
    out=$(cd "$src/tests" && ./run.sh --builddir="$1" --parallel=1 --show-diff "$2" 2>&1) || true
    case "$out" in
    *FAILED*) echo "FAILED" ;;
    *SKIPPED*) echo "SKIPPED $(echo "$out" | sed -n 's/.*SKIPPED (\(.*\)).*/\1/p' | head -1)" ;;
    *" OK"*) echo "OK" ;;
    *) echo "FAILED" ;;
    esac
    echo "$out" >"$work/log-$(basename "$1")-$(echo "$2" | tr / -).txt"
}

is_known() {
    [ -f "$known" ] && grep -qE "^$1([[:space:]]|$)" "$known"
}

echo "conformance: util-linux $version tests, against util-linux's own tools and ours"
passed=0 failed=0 skipped=0
for t in $tests; do
    theirs=$(run_one "$build" "$t")
    ours=$(run_one "$view" "$t")
    verdict=pass
    case "$ours" in
    OK) passed=$((passed + 1)) ;;
    SKIPPED*)
        skipped=$((skipped + 1))
        verdict=skip
        ;;
    *)
        failed=$((failed + 1))
        verdict=fail
        ;;
    esac
    note=""
    if [ "$verdict" != pass ] && is_known "$t"; then
        note=" (known difference: tests/conformance-known.txt)"
    elif [ "$verdict" != pass ]; then
        note=" (log: $work/log-view-$(echo "$t" | tr / -).txt)"
    fi
    printf '%-45s ours: %-8s util-linux: %s%s\n' "$t" "$ours" "$theirs" "$note"
    if [ "$verdict" != pass ] && ! is_known "$t"; then
        unexpected=1
    fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ -z "${unexpected:-}" ]
