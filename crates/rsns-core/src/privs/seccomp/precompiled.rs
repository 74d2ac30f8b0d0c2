//! The built-in profile as build.rs compiled it, for the capability sets a
//! box mostly holds: a start that finds its set here loads the filters
//! without compiling (a fifth of rs-setpriv's start, `make bench`).

use super::compile::Compiled;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/container_bpf.rs"));
}

/// The container profile's filters for a program holding `caps`, if
/// build.rs compiled that set.
pub fn container(caps: u64) -> Option<Compiled> {
    let key = caps & generated::RELEVANT;
    let (_, flags, filters) = generated::PRECOMPILED.iter().find(|(k, _, _)| *k == key)?;
    Some(Compiled {
        filters: filters
            .iter()
            .map(|f| {
                f.iter()
                    .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
                    .collect()
            })
            .collect(),
        flags: *flags,
    })
}

#[cfg(test)]
mod tests {
    use super::super::compile::{self, Arch, Target};
    use super::*;

    fn at_run_time(caps: u64) -> Compiled {
        let target = Target {
            arch: Arch::native().unwrap(),
            caps,
            kernel: (6, 1),
        };
        compile::compile(&super::super::container::profile(), target).unwrap()
    }

    fn same(a: &Compiled, b: &Compiled) -> bool {
        let insns = |c: &Compiled| -> Vec<Vec<(u16, u8, u8, u32)>> {
            c.filters
                .iter()
                .map(|f| f.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect())
                .collect()
        };
        a.flags == b.flags && insns(a) == insns(b)
    }

    /// What build.rs wrote is what the run-time compiler makes, for the
    /// sets it covers (podman's 11 and every capability, whatever else is
    /// held beside them), and a set it lacks is left to the compiler.
    #[test]
    fn precompiled_filters_are_what_the_compiler_makes() {
        let podman = crate::privs::capnames::CONTAINER;
        let every = (1u64 << 41) - 1;
        for caps in [podman, every, podman | 1 << 40] {
            let pre = container(caps).expect("precompiled");
            assert!(same(&pre, &at_run_time(caps)), "caps {caps:#x}");
        }
        const CAP_SYS_ADMIN: u64 = 1 << 21;
        assert!(container(crate::privs::capnames::CONTAINER | CAP_SYS_ADMIN).is_none());
        assert!(container(0).is_none());
        assert_eq!(
            generated::RELEVANT,
            super::super::container::capabilities_that_matter()
        );
    }
}
