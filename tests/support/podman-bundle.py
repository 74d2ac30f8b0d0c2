#!/usr/bin/env python3
"""An OCI bundle for crun with podman's default isolation, the escape
battery's other column (tests/isolation.rs): podman's 11 capabilities, the
seccomp profile from containers-common resolved for them as podman resolves
it, its masked and read-only paths, its mounts and its device allow list.

Usage: podman-bundle.py [OPTIONS] BUNDLE-DIR PROFILE COMMAND...
  BUNDLE-DIR: config.json is written there; the root is BUNDLE-DIR/rootfs
  unless --root says otherwise.
  PROFILE: containers-common's seccomp.json.
  --no-devices: no device list, where crun cannot load its BPF device
  program (it raises RLIMIT_MEMLOCK first, which a host may forbid).
  --root PATH: the root file system, relative to BUNDLE-DIR or absolute.
  --read-only: a read-only root (podman run --read-only).
  --memory BYTES, --pids N: limits (podman run --memory, --pids-limit),
  for make bench's finale, which sets the same on its side.
"""
import argparse
import json
import platform
import sys

CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
    "CAP_SETUID", "CAP_SYS_CHROOT",
]
# containers-common's defaults (pkg/config): masked and read-only paths.
MASKED = [
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block",
    "/sys/devices/virtual/powercap",
]
READONLY = [
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
    "/proc/sysrq-trigger",
]
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
SCMP_ARCH = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}


def seccomp(profile):
    """The profile for these capabilities and this machine, as podman
    hands it to the runtime (includes and excludes decided)."""
    arch = GO_ARCH[platform.machine()]
    native = SCMP_ARCH[platform.machine()]
    arches = [native]
    for m in profile.get("archMap", []):
        if m["architecture"] == native:
            arches += m.get("subArchitectures", [])
    out = []
    for entry in profile["syscalls"]:
        inc = entry.get("includes") or {}
        exc = entry.get("excludes") or {}
        if any(c not in CAPS for c in inc.get("caps", [])):
            continue
        if any(c in CAPS for c in exc.get("caps", [])):
            continue
        if inc.get("arches") and arch not in inc["arches"]:
            continue
        if arch in exc.get("arches", []):
            continue
        rule = {"names": entry["names"], "action": entry["action"]}
        if "errnoRet" in entry:
            rule["errnoRet"] = entry["errnoRet"]
        if entry.get("args"):
            rule["args"] = entry["args"]
        out.append(rule)
    return {
        "defaultAction": profile["defaultAction"],
        "defaultErrnoRet": profile.get("defaultErrnoRet", 1),
        "architectures": arches,
        "syscalls": out,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-devices", action="store_true")
    parser.add_argument("--root", default="rootfs")
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--memory", type=int)
    parser.add_argument("--pids", type=int)
    parser.add_argument("bundle")
    parser.add_argument("profile")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    opts = parser.parse_args()
    devices, bundle, profile_path, command = (
        not opts.no_devices, opts.bundle, opts.profile, opts.command)
    with open(profile_path) as f:
        profile = json.load(f)
    nosuid = ["nosuid", "noexec", "nodev"]
    allow = lambda t, maj, mi: {"allow": True, "type": t, "major": maj, "minor": mi, "access": "rwm"}
    config = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": command,
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {k: CAPS for k in ("bounding", "effective", "permitted")},
            "noNewPrivileges": False,
        },
        "root": {"path": opts.root, "readonly": opts.read_only},
        "hostname": "podman-like",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": nosuid},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": nosuid + ["mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": nosuid},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": nosuid + ["ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": nosuid + ["relatime", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")],
            "maskedPaths": MASKED,
            "readonlyPaths": READONLY,
            "seccomp": seccomp(profile),
            "resources": {
                "devices": [
                    {"allow": False, "access": "rwm"},
                    allow("c", None, None) | {"access": "m"},
                    allow("b", None, None) | {"access": "m"},
                    allow("c", 1, 3), allow("c", 1, 5), allow("c", 1, 7),
                    allow("c", 1, 8), allow("c", 1, 9), allow("c", 5, 0),
                    allow("c", 5, 1), allow("c", 5, 2), allow("c", 136, None),
                ],
            },
        },
    }
    resources = config["linux"]["resources"]
    if not devices:
        del resources["devices"]
    if opts.memory is not None:
        resources["memory"] = {"limit": opts.memory}
    if opts.pids is not None:
        resources["pids"] = {"limit": opts.pids}
    for d in config["linux"].get("resources", {}).get("devices", []):
        for k in ("major", "minor"):
            if k in d and d[k] is None:
                del d[k]
    with open(f"{bundle}/config.json", "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main()
