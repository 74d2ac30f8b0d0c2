//! A profile compiled to classic BPF with seccompiler (rust-vmm's, as
//! Firecracker uses it), for the running architecture.
//!
//! seccompiler builds a filter with one action on a match and one
//! otherwise, where a profile has one per rule. So a profile becomes a
//! stack, as the kernel runs every filter and takes the strictest answer:
//! first a filter that allows every call some rule names (its arguments
//! tested) and answers the default action to the rest, then one filter per
//! other action that answers it to its rules' calls and allows the rest.
//! A call a rule takes gets that rule's action; where rules of two actions
//! take the same call, the stricter action wins (for two errnos, the one
//! installed last), where libseccomp would refuse the profile.
//!
//! Calls from another architecture on this kernel (x86's int 0x80 on
//! x86_64, arm32 on aarch64) kill the process: the filter knows only the
//! native table. podman's profile allows those tables as well.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::profile::{Action, Entry, Op, Profile};

/// The filters to load, in order, and seccomp(2)'s flags.
#[derive(Clone, Default)]
pub struct Compiled {
    pub filters: Vec<Vec<libc::sock_filter>>,
    pub flags: u32,
}

/// Sizes, not thousands of instructions, in debug logs.
impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<usize> = self.filters.iter().map(Vec::len).collect();
        write!(
            f,
            "Compiled {{ instructions per filter: {sizes:?}, flags: {:#x} }}",
            self.flags
        )
    }
}

/// An architecture we have a system call table for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub fn native() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// The number of `name` on this architecture, if it has the call.
    pub fn number(self, name: &str) -> Option<i64> {
        let table = self.table();
        let at = table.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
        Some(i64::from(table[at].1))
    }

    /// Names and numbers, sorted by name, made once: the syscalls crate's
    /// FromStr is a linear scan, which was two thirds of compiling podman's
    /// profile (400 names against 450).
    fn table(self) -> &'static [(&'static str, u32)] {
        use std::sync::OnceLock;
        static X86_64: OnceLock<Vec<(&'static str, u32)>> = OnceLock::new();
        static AARCH64: OnceLock<Vec<(&'static str, u32)>> = OnceLock::new();
        fn sorted(mut v: Vec<(&'static str, u32)>) -> Vec<(&'static str, u32)> {
            v.sort_unstable();
            v
        }
        match self {
            Arch::X86_64 => X86_64.get_or_init(|| {
                sorted(
                    syscalls::x86_64::Sysno::iter()
                        .map(|s| (s.name(), s.id() as u32))
                        .collect(),
                )
            }),
            Arch::Aarch64 => AARCH64.get_or_init(|| {
                sorted(
                    syscalls::aarch64::Sysno::iter()
                        .map(|s| (s.name(), s.id() as u32))
                        .collect(),
                )
            }),
        }
    }

    /// Names as profiles' `includes.arches` spell them (Go's and
    /// libseccomp's).
    fn names(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &["amd64", "x86_64", "SCMP_ARCH_X86_64"],
            Arch::Aarch64 => &["arm64", "aarch64", "SCMP_ARCH_AARCH64"],
        }
    }

    fn target(self) -> TargetArch {
        match self {
            Arch::X86_64 => TargetArch::x86_64,
            Arch::Aarch64 => TargetArch::aarch64,
        }
    }
}

/// What an entry's `includes` and `excludes` are tested against.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub arch: Arch,
    /// The capabilities the program will hold (its bounding set).
    pub caps: u64,
    /// The running kernel, (major, minor).
    pub kernel: (u32, u32),
}

pub fn compile(profile: &Profile, target: Target) -> Result<Compiled, String> {
    let default = action(profile.default_action, profile.default_errno_ret);
    // Every call some applying rule takes, by action, then by number.
    let mut by_action: Vec<(SeccompAction, BTreeMap<i64, Chain>)> = Vec::new();
    let mut taken: BTreeMap<i64, Chain> = BTreeMap::new();
    for (i, entry) in profile.syscalls.iter().enumerate() {
        if !applies(entry, target) {
            continue;
        }
        let act = action(entry.action, entry.errno_ret);
        if act == default {
            continue;
        }
        let rule = rule(entry).map_err(|e| format!("syscalls[{i}].args: {e}"))?;
        let slot = match by_action.iter().position(|(a, _)| *a == act) {
            Some(p) => p,
            None => {
                by_action.push((act.clone(), BTreeMap::new()));
                by_action.len() - 1
            }
        };
        for name in entry.all_names() {
            // A name this architecture lacks is skipped, as docker does.
            let Some(nr) = target.arch.number(name) else {
                continue;
            };
            by_action[slot].1.entry(nr).or_default().add(rule.clone());
            taken.entry(nr).or_default().add(rule.clone());
        }
    }
    let mut filters = Vec::new();
    if default != SeccompAction::Allow {
        filters.push(build(taken, default.clone(), SeccompAction::Allow, target)?);
    }
    for (act, calls) in by_action {
        if act != SeccompAction::Allow {
            filters.push(build(calls, SeccompAction::Allow, act, target)?);
        }
    }
    if filters.is_empty() {
        // Everything allowed: still a filter, so the mode shows as 2.
        filters.push(build(
            BTreeMap::new(),
            SeccompAction::Allow,
            SeccompAction::KillProcess,
            target,
        )?);
    }
    Ok(Compiled {
        filters,
        flags: profile.flags.iter().fold(0, |f, flag| f | flag.bits()),
    })
}

/// One call's rules: any may match; none at all means the number alone.
#[derive(Debug, Clone, Default)]
struct Chain(Option<Vec<SeccompRule>>);

impl Chain {
    fn add(&mut self, rule: Option<SeccompRule>) {
        match (rule, &mut self.0) {
            // Unconditional already: nothing narrows it.
            (_, Some(rules)) if rules.is_empty() => {}
            (None, slot) => *slot = Some(Vec::new()),
            (Some(r), Some(rules)) => rules.push(r),
            (Some(r), slot @ None) => *slot = Some(vec![r]),
        }
    }
}

fn build(
    calls: BTreeMap<i64, Chain>,
    mismatch: SeccompAction,
    matched: SeccompAction,
    target: Target,
) -> Result<Vec<libc::sock_filter>, String> {
    let rules = calls
        .into_iter()
        .map(|(nr, chain)| (nr, chain.0.unwrap_or_default()))
        .collect();
    let filter = SeccompFilter::new(rules, mismatch, matched, target.arch.target())
        .map_err(|e| e.to_string())?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    Ok(program
        .into_iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect())
}

fn action(action: Action, errno: Option<u32>) -> SeccompAction {
    match action {
        Action::Allow => SeccompAction::Allow,
        // OCI: errnoRet defaults to EPERM.
        Action::Errno => SeccompAction::Errno(errno.unwrap_or(libc::EPERM as u32)),
        Action::KillThread => SeccompAction::KillThread,
        Action::KillProcess => SeccompAction::KillProcess,
        Action::Trap => SeccompAction::Trap,
        Action::Trace => SeccompAction::Trace(errno.unwrap_or(0)),
        Action::Log => SeccompAction::Log,
        Action::Notify => unreachable!("refused when the profile is read"),
    }
}

/// The entry's argument tests, all to hold (None: no test).
fn rule(entry: &Entry) -> Result<Option<SeccompRule>, String> {
    if entry.args.is_empty() {
        return Ok(None);
    }
    let conditions = entry
        .args
        .iter()
        .map(|a| {
            let (op, value) = match a.op {
                Op::Ne => (SeccompCmpOp::Ne, a.value),
                Op::Lt => (SeccompCmpOp::Lt, a.value),
                Op::Le => (SeccompCmpOp::Le, a.value),
                Op::Eq => (SeccompCmpOp::Eq, a.value),
                Op::Ge => (SeccompCmpOp::Ge, a.value),
                Op::Gt => (SeccompCmpOp::Gt, a.value),
                Op::MaskedEq => (SeccompCmpOp::MaskedEq(a.value), a.value_two),
            };
            // 64-bit compares, as libseccomp makes them.
            SeccompCondition::new(a.index, SeccompCmpArgLen::Qword, op, value)
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    SeccompRule::new(conditions)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn applies(entry: &Entry, target: Target) -> bool {
    let held = |name: &String| {
        super::super::capnames::parse(name, 63).is_some_and(|c| target.caps & (1 << c) != 0)
    };
    let on_arch = |arches: &[String]| {
        arches
            .iter()
            .any(|a| target.arch.names().contains(&a.as_str()))
    };
    let inc = &entry.includes;
    let exc = &entry.excludes;
    if !inc.caps.iter().all(held) || exc.caps.iter().any(held) {
        return false;
    }
    if (!inc.arches.is_empty() && !on_arch(&inc.arches)) || on_arch(&exc.arches) {
        return false;
    }
    let newer = |v: &Option<String>| v.as_deref().map(version).is_some_and(|v| target.kernel < v);
    !(newer(&inc.min_kernel)
        || exc
            .min_kernel
            .as_deref()
            .map(version)
            .is_some_and(|v| target.kernel >= v))
}

/// "5.10" or "5.10.0-46-amd64" as (5, 10).
pub fn version(text: &str) -> (u32, u32) {
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

    /// Runs one classic BPF filter on seccomp_data (nr, arch, args), as
    /// the kernel does; only the instructions seccompiler emits.
    fn run(filter: &[libc::sock_filter], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
        let word = |off: u32| -> u32 {
            match off {
                0 => nr,
                4 => arch,
                8..=8 => 0,
                o if (16..64).contains(&o) => {
                    let a = args[((o - 16) / 8) as usize];
                    if (o - 16) % 8 == 0 {
                        a as u32
                    } else {
                        (a >> 32) as u32
                    }
                }
                _ => panic!("load at {off}"),
            }
        };
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = filter[pc];
            pc += 1;
            match i.code {
                0x20 => acc = word(i.k),    // ld abs
                0x54 => acc &= i.k,         // and k
                0x06 => return i.k,         // ret k
                0x05 => pc += i.k as usize, // ja
                0x15 | 0x25 | 0x35 | 0x45 => {
                    let t = match i.code {
                        0x15 => acc == i.k,
                        0x25 => acc > i.k,
                        0x35 => acc >= i.k,
                        _ => acc & i.k != 0,
                    };
                    pc += usize::from(if t { i.jt } else { i.jf });
                }
                c => panic!("opcode {c:#x}"),
            }
        }
    }

    /// The kernel's answer for a stack: the strictest action; for equal
    /// ones, the filter installed last.
    fn decide(c: &Compiled, nr: i64, args: [u64; 6]) -> u32 {
        let mut best: Option<u32> = None;
        for f in c.filters.iter().rev() {
            let r = run(f, nr as u32, AUDIT_ARCH_X86_64, args);
            let rank = |v: u32| (v & 0xffff_0000) as i32;
            if best.is_none_or(|b| rank(r) < rank(b)) {
                best = Some(r);
            }
        }
        best.unwrap()
    }

    const ALLOW: u32 = 0x7fff_0000;
    fn errno(n: i32) -> u32 {
        0x0005_0000 | n as u32
    }

    fn target(caps: u64) -> Target {
        Target {
            arch: Arch::X86_64,
            caps,
            kernel: (6, 1),
        }
    }

    fn nr(name: &str) -> i64 {
        Arch::X86_64.number(name).unwrap()
    }

    #[test]
    fn the_container_profile_decides_as_podmans() {
        let caps = crate::privs::capnames::CONTAINER;
        let c = compile(&super::super::container::profile(), target(caps)).unwrap();
        let d = |name: &str, args: [u64; 6]| decide(&c, nr(name), args);
        let none = [0; 6];
        assert_eq!(d("read", none), ALLOW);
        assert_eq!(d("arch_prctl", none), ALLOW);
        assert_eq!(d("chroot", none), ALLOW, "sys_chroot is one of the 11");
        for refused in [
            "kexec_load",
            "swapon",
            "init_module",
            "bpf",
            "perf_event_open",
            "open_by_handle_at",
            "iopl",
            "clock_settime",
            "acct",
            "setns",
        ] {
            assert_eq!(d(refused, none), errno(libc::EPERM), "{refused}");
        }
        // Unknown to the profile: ENOSYS, so that glibc falls back.
        assert_eq!(d("fsmount", none), ALLOW);
        assert_eq!(d("lsm_get_self_attr", none), errno(libc::ENOSYS));
        assert_eq!(d("personality", [8, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(
            d("personality", [0x0400_0000, 0, 0, 0, 0, 0]),
            errno(libc::ENOSYS)
        );
        assert_eq!(d("socket", [16, 3, 9, 0, 0, 0]), errno(libc::EINVAL));
        assert_eq!(d("socket", [16, 3, 0, 0, 0, 0]), ALLOW);
        assert_eq!(d("socket", [2, 1, 9, 0, 0, 0]), ALLOW);
        // With CAP_SYS_ADMIN the gated calls open; the audit socket with
        // CAP_AUDIT_WRITE.
        let c = compile(
            &super::super::container::profile(),
            target(caps | 1 << 21 | 1 << 29),
        )
        .unwrap();
        assert_eq!(decide(&c, nr("bpf"), none), ALLOW);
        assert_eq!(decide(&c, nr("socket"), [16, 3, 9, 0, 0, 0]), ALLOW);
        // Another architecture's call is killed.
        assert_eq!(
            run(&c.filters[0], 0, 0x4000_0003, none),
            libc::SECCOMP_RET_KILL_PROCESS
        );
    }

    /// Where containers-common is installed, its profile and ours answer
    /// alike for every call (arguments zero, and the ones that matter).
    #[test]
    fn matches_containers_common_where_installed() {
        let path = "/usr/share/containers/seccomp.json";
        let Ok(text) = std::fs::read_to_string(path) else {
            assert!(
                std::env::var_os("RSNS_REQUIRE_ALL").is_none(),
                "{path} missing (Debian package golang-github-containers-common)"
            );
            return;
        };
        let theirs = compile(
            &super::super::profile::parse(&text).unwrap(),
            target(crate::privs::capnames::CONTAINER),
        )
        .unwrap();
        let ours = compile(
            &super::super::container::profile(),
            target(crate::privs::capnames::CONTAINER),
        )
        .unwrap();
        let mut differ = Vec::new();
        for sys in syscalls::x86_64::Sysno::iter() {
            for args in [
                [0; 6],
                [16, 3, 9, 0, 0, 0],
                [8, 0, 0, 0, 0, 0],
                [0xffff_ffff, 0, 0, 0, 0, 0],
            ] {
                let n = i64::from(sys.id());
                let (a, b) = (decide(&theirs, n, args), decide(&ours, n, args));
                if a != b {
                    differ.push(format!("{sys}{args:?}: theirs {a:#x}, ours {b:#x}"));
                }
            }
        }
        assert!(differ.is_empty(), "{differ:#?}");
    }

    #[test]
    fn masked_and_64_bit_compares() {
        let text = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},
            {"names":["mmap"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":4294967296,"op":"SCMP_CMP_LT"}]},
            {"names":["kill"],"action":"SCMP_ACT_KILL_PROCESS"},
            {"names":["no_such_call_anywhere"],"action":"SCMP_ACT_ALLOW"}]}"#;
        let c = compile(&super::super::profile::parse(text).unwrap(), target(0)).unwrap();
        assert_eq!(decide(&c, nr("clone"), [0x11, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(
            decide(&c, nr("clone"), [0x1000_0000, 0, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(decide(&c, nr("mmap"), [0, 0xffff_ffff, 0, 0, 0, 0]), ALLOW);
        assert_eq!(
            decide(&c, nr("mmap"), [0, 1 << 32, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(
            decide(&c, nr("kill"), [0; 6]),
            libc::SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(decide(&c, nr("read"), [0; 6]), errno(libc::EPERM));
    }

    #[test]
    fn aarch64_names_resolve_on_any_host() {
        assert_eq!(Arch::Aarch64.number("openat"), Some(56));
        assert_eq!(Arch::Aarch64.number("open"), None);
        let c = compile(
            &super::super::container::profile(),
            Target {
                arch: Arch::Aarch64,
                ..target(0)
            },
        );
        assert!(c.is_ok());
    }
}
