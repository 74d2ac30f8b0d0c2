#!/bin/sh
# Creates the unprivileged user the tests run as (default rsns-test), with
# subordinate ids in /etc/subuid and /etc/subgid for the newuidmap cases.
# Needs root; without it the unprivileged tests skip (or fail under
# RSNS_REQUIRE_ALL=1).
set -eu

user=${RSNS_TEST_USER:-rsns-test}
if [ "$(id -u)" != 0 ]; then
    echo "test-user: not root: cannot create $user; unprivileged tests will skip" >&2
    exit 0
fi
if ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$user"
fi
for file in /etc/subuid /etc/subgid; do
    touch "$file"
    grep -q "^$user:" "$file" || echo "$user:200000:65536" >>"$file"
done
# pasta (the cookbook's network for an ordinary user's box) opens
# /dev/net/tun, which Debian's udev rules make 0666. A machine without udev
# (a container, a minimal VM) leaves the kernel's 0600: give it udev's mode.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    echo "test-user: /dev/net/tun is $(stat -c %a /dev/net/tun); making it 0666, as udev does" >&2
    chmod 0666 /dev/net/tun
fi
