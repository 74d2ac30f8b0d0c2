//! Capabilities kept across execve for a program that is not root (`--keep-caps`).

use nix::errno::Errno;

use crate::sys::{self, CapSets};

/// The highest capability the running kernel knows, read before forking,
/// once per process (a procfs open is a tenth of a tool's start).
pub fn last_cap() -> u32 {
    static LAST: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40)
    })
}

/// Makes every permitted capability effective, inheritable and ambient, so it
/// survives the execve of a program running as a non-root uid. Allocation-free.
pub fn permitted_to_ambient(last_cap: u32) -> Result<(), Errno> {
    let sets = sys::cap_get()?;
    sys::cap_set(CapSets {
        effective: sets.permitted,
        permitted: sets.permitted,
        inheritable: sets.permitted,
    })?;
    for cap in 0..=last_cap.min(63) {
        if sets.permitted & (1u64 << cap) != 0 {
            sys::ambient_raise(cap)?;
        }
    }
    Ok(())
}

/// Whether `cap` is in our effective set. Allocation-free.
pub fn is_effective(cap: u32) -> bool {
    sys::cap_get().is_ok_and(|sets| sets.effective & (1u64 << cap) != 0)
}

pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_cap_is_plausible() {
        let last = last_cap();
        assert!((30..64).contains(&last), "{last}");
    }
}
