#!/bin/sh
# make test: every test, then a count of what skipped and why.
#
# As root the unprivileged cases run as the test user (test-user.sh), who
# must reach the built binaries. A clone in a 0700 home (root's, or any home
# Debian's adduser makes) is out of its reach: then the tests build in a
# directory under /var/tmp instead, and we say so first.
#
# A test that cannot run here prints `SKIP: reason` and passes, so each skip
# is also written to a log and counted at the end: a run with skips says so.
set -eu
cargo=${CARGO:-cargo}
user=${RSNS_TEST_USER:-rsns-test}

target_dir=$($cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ "$(id -u)" = 0 ] && id "$user" >/dev/null 2>&1; then
    mkdir -p "$target_dir"
    if ! setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
        test -x "$target_dir"; then
        blocked=$target_dir
        while [ "$blocked" != / ] && setpriv --reuid="$user" --regid="$(id -g "$user")" \
            --clear-groups test -x "$(dirname "$blocked")" 2>/dev/null; do
            blocked=$(dirname "$blocked")
        done
        reachable=/var/tmp/rsns-target-$(printf '%s' "$target_dir" | cksum | cut -d' ' -f1)
        echo "make test: $user cannot reach $target_dir (no search permission on" \
            "$(dirname "$blocked"), mode $(stat -c %a "$(dirname "$blocked")")); building the" \
            "tests in $reachable instead" >&2
        mkdir -p "$reachable"
        chmod 755 "$reachable"
        export CARGO_TARGET_DIR="$reachable"
        target_dir=$reachable
    fi
fi

mkdir -p "$target_dir"
# bwrap 0.11 or later for the overlay parity test, where the test user can
# run it; a failure to build one is that test's skip (or failure in CI).
if [ -z "${RSNS_BWRAP_NEW:-}" ]; then
    RSNS_BWRAP_NEW=$("$(dirname "$0")/bwrap-new.sh" "$target_dir/bwrap-new") || RSNS_BWRAP_NEW=""
fi
export RSNS_BWRAP_NEW
export RSNS_SKIP_LOG="$target_dir/skipped.log"
: >"$RSNS_SKIP_LOG"
chmod 666 "$RSNS_SKIP_LOG"
status=0
$cargo test --workspace --locked --no-fail-fast || status=$?
if [ -s "$RSNS_SKIP_LOG" ]; then
    echo "make test: $(wc -l <"$RSNS_SKIP_LOG") tests skipped (they passed without running):"
    sort "$RSNS_SKIP_LOG" | uniq -c | sort -rn | sed 's/^ */  /'
else
    echo "make test: no test skipped"
fi
exit "$status"
