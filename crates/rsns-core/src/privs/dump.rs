//! `-d/--dump`: the privilege state as setpriv(1) prints it, line for line
//! (`-dd` adds the effective and permitted sets, `-ddd` the saved ids), and
//! after it the seccomp mode and Landlock ABI, which setpriv does not show.

use std::fmt::Write;

use super::capnames;
use crate::sys::{self, PrctlInt};

pub fn dump(level: u8) -> String {
    let mut out = String::new();
    let last = crate::caps::last_cap();
    if let Ok(ids) = nix::unistd::getresuid() {
        let _ = writeln!(out, "uid: {}", ids.real);
        let _ = writeln!(out, "euid: {}", ids.effective);
        if level >= 3 {
            let _ = writeln!(out, "suid: {}", ids.saved);
        }
    }
    if let Ok(ids) = nix::unistd::getresgid() {
        let _ = writeln!(out, "gid: {}", ids.real);
        let _ = writeln!(out, "egid: {}", ids.effective);
        if level >= 3 {
            let _ = writeln!(out, "sgid: {}", ids.saved);
        }
    }
    let groups = nix::unistd::getgroups().unwrap_or_default();
    let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    let _ = writeln!(
        out,
        "Supplementary groups: {}",
        if groups.is_empty() {
            "[none]".into()
        } else {
            groups.join(",")
        }
    );
    if let Ok(nnp) = sys::prctl_int(PrctlInt::GetNoNewPrivs, 0) {
        let _ = writeln!(out, "no_new_privs: {nnp}");
    }
    let sets = sys::cap_get().unwrap_or_default();
    if level >= 2 {
        let _ = writeln!(
            out,
            "Effective capabilities: {}",
            capnames::list(sets.effective, last)
        );
        let _ = writeln!(
            out,
            "Permitted capabilities: {}",
            capnames::list(sets.permitted, last)
        );
    }
    let _ = writeln!(
        out,
        "Inheritable capabilities: {}",
        capnames::list(sets.inheritable, last)
    );
    let ambient = per_cap(PrctlInt::AmbientIsSet, last);
    let _ = writeln!(
        out,
        "Ambient capabilities: {}",
        ambient.map_or("[unsupported]".into(), |set| capnames::list(set, last))
    );
    let bounding = per_cap(PrctlInt::CapBsetRead, last).unwrap_or(0);
    let _ = writeln!(
        out,
        "Capability bounding set: {}",
        capnames::list(bounding, last)
    );
    if let Ok(bits) = sys::prctl_int(PrctlInt::GetSecurebits, 0) {
        let _ = writeln!(out, "Securebits: {}", super::securebits::show(bits));
    }
    let signal = nix::sys::prctl::get_pdeathsig().ok().flatten();
    let _ = writeln!(
        out,
        "Parent death signal: {}",
        signal.map_or("[none]".into(), |s| super::signal_name(s as i32))
    );
    if std::path::Path::new("/sys/fs/selinux").exists() {
        label(&mut out, "SELinux label");
    }
    if std::path::Path::new("/sys/kernel/security/apparmor").exists() {
        label(&mut out, "AppArmor profile");
    }
    // Beyond setpriv: what else confines the process.
    let _ = writeln!(out, "Seccomp: {}", seccomp_mode());
    let _ = writeln!(
        out,
        "Landlock ABI: {}",
        sys::landlock_abi().map_or("[unsupported]".into(), |abi| abi.to_string())
    );
    out
}

/// /proc/self/status's seccomp mode, with the number of filters.
fn seccomp_mode() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    match (field("Seccomp:"), field("Seccomp_filters:")) {
        (Some("0"), _) => "disabled".into(),
        (Some("1"), _) => "strict".into(),
        (Some("2"), Some(n)) => format!("filter ({n} loaded)"),
        (Some("2"), None) => "filter".into(),
        _ => "[unsupported]".into(),
    }
}

/// The capabilities for which `option` says yes; None if the kernel knows
/// no such query (ambient capabilities before 4.3).
pub(super) fn per_cap(option: PrctlInt, last: u32) -> Option<u64> {
    let mut set = 0u64;
    for cap in 0..=last.min(63) {
        match sys::prctl_int(option, libc::c_ulong::from(cap)) {
            Ok(1) => set |= 1 << cap,
            Ok(_) => {}
            Err(_) if cap == 0 => return None,
            Err(_) => {}
        }
    }
    Some(set)
}

fn label(out: &mut String, name: &str) {
    if let Ok(text) = std::fs::read_to_string("/proc/self/attr/current") {
        let _ = writeln!(out, "{name}: {}", text.trim_end_matches(['\n', '\0']));
    }
}
