//! The namespace kinds, their names in /proc and their CLONE_NEW* flags.

use std::fmt;

/// One kind of Linux namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NsKind {
    User,
    Mount,
    Uts,
    Ipc,
    Net,
    Pid,
    Cgroup,
    Time,
}

impl NsKind {
    /// Every kind, user first: the order in which the kernel creates them in one
    /// clone(2), so the others are owned by a new user namespace.
    pub const ALL: [NsKind; 8] = [
        NsKind::User,
        NsKind::Mount,
        NsKind::Uts,
        NsKind::Ipc,
        NsKind::Net,
        NsKind::Pid,
        NsKind::Cgroup,
        NsKind::Time,
    ];

    /// The file name in /proc/PID/ns/.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsKind::User => "user",
            NsKind::Mount => "mnt",
            NsKind::Uts => "uts",
            NsKind::Ipc => "ipc",
            NsKind::Net => "net",
            NsKind::Pid => "pid",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }

    /// The kind whose /proc/PID/ns name (and lsns(8) type name) is `name`.
    pub fn from_proc_name(name: &str) -> Option<NsKind> {
        NsKind::ALL.into_iter().find(|k| k.proc_name() == name)
    }

    /// The file that names the namespace a process's *children* get. PID and time
    /// namespaces apply to children only, so a new one shows up there first.
    pub fn for_children_name(self) -> &'static str {
        match self {
            NsKind::Pid => "pid_for_children",
            NsKind::Time => "time_for_children",
            other => other.proc_name(),
        }
    }

    /// The long option of rs-unshare and nsenter(1) for this kind.
    pub fn option_name(self) -> &'static str {
        match self {
            NsKind::Mount => "mount",
            other => other.proc_name(),
        }
    }

    /// The CLONE_NEW* flag.
    pub fn clone_flag(self) -> libc::c_int {
        match self {
            NsKind::User => libc::CLONE_NEWUSER,
            NsKind::Mount => libc::CLONE_NEWNS,
            NsKind::Uts => libc::CLONE_NEWUTS,
            NsKind::Ipc => libc::CLONE_NEWIPC,
            NsKind::Net => libc::CLONE_NEWNET,
            NsKind::Pid => libc::CLONE_NEWPID,
            NsKind::Cgroup => libc::CLONE_NEWCGROUP,
            NsKind::Time => libc::CLONE_NEWTIME,
        }
    }

    /// The name of the CLONE_NEW* flag, for messages.
    pub fn flag_name(self) -> &'static str {
        match self {
            NsKind::User => "CLONE_NEWUSER",
            NsKind::Mount => "CLONE_NEWNS",
            NsKind::Uts => "CLONE_NEWUTS",
            NsKind::Ipc => "CLONE_NEWIPC",
            NsKind::Net => "CLONE_NEWNET",
            NsKind::Pid => "CLONE_NEWPID",
            NsKind::Cgroup => "CLONE_NEWCGROUP",
            NsKind::Time => "CLONE_NEWTIME",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for NsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proc_name())
    }
}

/// A set of namespace kinds.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NsSet(u8);

impl NsSet {
    pub const EMPTY: NsSet = NsSet(0);

    pub fn insert(&mut self, kind: NsKind) {
        self.0 |= kind.bit();
    }

    pub fn remove(&mut self, kind: NsKind) {
        self.0 &= !kind.bit();
    }

    pub fn contains(self, kind: NsKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in the set, user first.
    pub fn iter(self) -> impl Iterator<Item = NsKind> {
        NsKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }

    /// The CLONE_NEW* flags of the set, OR-ed.
    pub fn clone_flags(self) -> libc::c_int {
        self.iter().fold(0, |acc, k| acc | k.clone_flag())
    }
}

impl FromIterator<NsKind> for NsSet {
    fn from_iter<I: IntoIterator<Item = NsKind>>(iter: I) -> Self {
        let mut set = NsSet::EMPTY;
        for kind in iter {
            set.insert(kind);
        }
        set
    }
}

/// Shows the set as the flags a syscall gets: `CLONE_NEWUSER|CLONE_NEWNS`.
impl fmt::Display for NsSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("0");
        }
        for (i, kind) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(kind.flag_name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for NsSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_distinct_and_match_libc() {
        let all: NsSet = NsKind::ALL.into_iter().collect();
        let expected = libc::CLONE_NEWUSER
            | libc::CLONE_NEWNS
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWCGROUP
            | libc::CLONE_NEWTIME;
        assert_eq!(all.clone_flags(), expected);
        assert_eq!(all.iter().count(), 8);
    }

    #[test]
    fn set_displays_like_syscall_flags() {
        let mut set = NsSet::EMPTY;
        assert_eq!(set.to_string(), "0");
        set.insert(NsKind::Mount);
        set.insert(NsKind::User);
        assert_eq!(set.to_string(), "CLONE_NEWUSER|CLONE_NEWNS");
        set.remove(NsKind::User);
        assert_eq!(set.to_string(), "CLONE_NEWNS");
        assert!(!set.contains(NsKind::User));
    }
}
