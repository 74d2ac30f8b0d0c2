//! Compiles the built-in `--seccomp=container` profile to BPF at build time,
//! for the two capability sets a box mostly holds (podman's 11, as
//! `--caps=container` leaves them; and every capability, as root or a user
//! namespace's root holds them), so a start loads it without compiling.
//! Any other set is compiled at run time. The very code the tools run
//! compiles it (the modules are included from src/), and a unit test checks
//! the result against a compile at run time.

#![allow(dead_code, unused_imports)]

use std::fmt::Write;

// The modules as the library nests them (compile.rs reaches capnames as
// super::super::capnames); a path through a directory that does not exist
// cannot be opened, hence a file per level.
#[path = "src/privs/build_modules.rs"]
mod privs;

use privs::seccomp::{compile, container};

fn main() {
    for file in [
        "src/privs/capnames.rs",
        "src/privs/seccomp/compile.rs",
        "src/privs/seccomp/container.rs",
        "src/privs/seccomp/profile.rs",
    ] {
        println!("cargo:rerun-if-changed={file}");
    }
    let arch = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => Some(compile::Arch::X86_64),
        Ok("aarch64") => Some(compile::Arch::Aarch64),
        _ => None,
    };
    let mut out = String::new();
    let profile = container::profile();
    let relevant = container::capabilities_that_matter();
    writeln!(out, "pub const RELEVANT: u64 = {relevant:#x};").unwrap();
    out.push_str("/// One instruction: (code, jt, jf, k).\n");
    out.push_str("pub type Insn = (u16, u8, u8, u32);\n");
    out.push_str("/// (capabilities & RELEVANT, flags, filters).\n");
    out.push_str("pub static PRECOMPILED: &[(u64, u32, &[&[Insn]])] = &[\n");
    for caps in arch.map_or(vec![], |_| {
        vec![privs::capnames::CONTAINER & relevant, relevant]
    }) {
        let target = compile::Target {
            arch: arch.unwrap(),
            caps,
            // The profile has no minKernel: the kernel does not matter.
            kernel: (0, 0),
        };
        let compiled = compile::compile(&profile, target).expect("the built-in profile compiles");
        write!(out, "    ({caps:#x}, {}, &[", compiled.flags).unwrap();
        for filter in &compiled.filters {
            out.push_str("&[");
            for i in filter {
                write!(out, "({}, {}, {}, {}),", i.code, i.jt, i.jf, i.k).unwrap();
            }
            out.push_str("],");
        }
        out.push_str("]),\n");
    }
    out.push_str("];\n");
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("container_bpf.rs");
    std::fs::write(path, out).unwrap();
}
