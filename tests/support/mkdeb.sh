#!/bin/sh
# make deb: rsns_VERSION_ARCH.deb from the static release binaries, the man
# pages and the completions, with dpkg-deb (part of every Debian system, so
# no packaging tool to install). The binaries are static: no Depends;
# uidmap (newuidmap/newgidmap for more than one id) is a Recommends.
# Usage: mkdeb.sh RELEASE_DIR GENERATED_DIR OUT_DIR
set -eu
release=${1:?usage: mkdeb.sh RELEASE_DIR GENERATED_DIR OUT_DIR}
gen=${2:?}
out=${3:?}
here=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version = "\(.*\)"/\1/p' "$here/Cargo.toml")
arch=$(dpkg --print-architecture)
name="rsns_${version}_${arch}"
root="$out/$name"
rm -rf "$root"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" "$root/usr/share/man/man8" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d" "$root/usr/share/doc/rsns"
for tool in rs-unshare rs-nsenter rs-lsns rs-pivot rs-cgroup rs-setpriv; do
    install -m 0755 "$release/$tool" "$root/usr/bin/"
done
for page in "$gen"/man/*.1 "$gen"/man/*.8; do
    section=${page##*.}
    gzip -9n <"$page" >"$root/usr/share/man/man$section/$(basename "$page").gz"
done
install -m 0644 "$gen"/completions/bash/* "$root/usr/share/bash-completion/completions/"
install -m 0644 "$gen"/completions/zsh/* "$root/usr/share/zsh/vendor-completions/"
install -m 0644 "$gen"/completions/fish/* "$root/usr/share/fish/vendor_completions.d/"
printf 'rsns %s: Linux namespace tools.\nLicense: MIT OR Apache-2.0\n' "$version" \
    >"$root/usr/share/doc/rsns/copyright"
size=$(du -sk "$root/usr" | cut -f1)
cat >"$root/DEBIAN/control" <<EOT
Package: rsns
Version: $version
Architecture: $arch
Maintainer: rsns developers <rsns@example.invalid>
Installed-Size: $size
Recommends: uidmap
Suggests: busybox-static, iproute2
Section: admin
Priority: optional
Homepage: https://example.invalid/rsns
Description: small, scriptable Linux namespace tools
 rs-unshare, rs-nsenter, rs-lsns, rs-pivot, rs-cgroup and rs-setpriv: run a program in
 new namespaces, join a running process's namespaces, list every namespace,
 change a container's root, run a program in a cgroup with limits, and drop
 privileges, with
 util-linux's options and exit
 statuses and one-line errors that say what failed and why.
EOT
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/$name.deb" >/dev/null
rm -rf "$root"
echo "$out/$name.deb"
