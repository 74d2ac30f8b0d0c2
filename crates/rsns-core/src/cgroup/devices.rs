//! rs-cgroup `--devices`: a device policy for the group. cgroup v2 has no
//! devices file; as crun and runc do, a BPF_PROG_TYPE_CGROUP_DEVICE program
//! is attached to the group, and the kernel asks it at every open and mknod
//! of a device node by a process of the group. It goes with the group.
//!
//! Rules are docker's `--device-cgroup-rule` syntax: `TYPE MAJOR:MINOR
//! ACCESS`, TYPE `c`, `b` or `a` (both), MAJOR and MINOR a number or `*`,
//! ACCESS letters of `rwm`. The first rule that matches decides; nothing
//! matching is denied.

use crate::sys::BpfInsn;

/// What may be done to a device: read, write, mknod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    /// 1 block, 2 char (BPF_DEVCG_DEV_*); None: either.
    pub kind: Option<u32>,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// BPF_DEVCG_ACC_MKNOD 1, READ 2, WRITE 4.
    pub access: u32,
}

const BLOCK: u32 = 1;
const CHAR: u32 = 2;
const MKNOD: u32 = 1;
const READ: u32 = 2;
const WRITE: u32 = 4;

impl std::str::FromStr for DeviceRule {
    type Err = String;

    /// `c 1:3 rwm`.
    fn from_str(text: &str) -> Result<DeviceRule, String> {
        let bad = |why: &str| format!("--device-allow='{text}': {why} (as 'c 1:3 rwm')");
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [kind, numbers, access] = parts[..] else {
            return Err(bad("give TYPE MAJOR:MINOR ACCESS"));
        };
        let kind = match kind {
            "c" => Some(CHAR),
            "b" => Some(BLOCK),
            "a" => None,
            _ => return Err(bad("TYPE is c, b or a")),
        };
        let (major, minor) = numbers
            .split_once(':')
            .ok_or_else(|| bad("MAJOR:MINOR, each a number or *"))?;
        let number = |n: &str| -> Result<Option<u32>, String> {
            match n {
                "*" => Ok(None),
                _ => n
                    .parse()
                    .map(Some)
                    .map_err(|_| bad("MAJOR:MINOR, each a number or *")),
            }
        };
        let mut bits = 0;
        for c in access.chars() {
            bits |= match c {
                'r' => READ,
                'w' => WRITE,
                'm' => MKNOD,
                _ => return Err(bad("ACCESS is letters of rwm")),
            };
        }
        Ok(DeviceRule {
            kind,
            major: number(major)?,
            minor: number(minor)?,
            access: bits,
        })
    }
}

/// `--devices=container`: docker's and podman's default list. Any device
/// node may be made (mknod), and these opened: null, zero, full, random,
/// urandom, tty, ptmx and the pseudo-terminals.
pub fn container() -> Vec<DeviceRule> {
    let rule = |kind, major, minor, access| DeviceRule {
        kind: Some(kind),
        major,
        minor,
        access,
    };
    let all = READ | WRITE | MKNOD;
    vec![
        rule(CHAR, None, None, MKNOD),
        rule(BLOCK, None, None, MKNOD),
        rule(CHAR, Some(1), Some(3), all),
        rule(CHAR, Some(1), Some(5), all),
        rule(CHAR, Some(1), Some(7), all),
        rule(CHAR, Some(1), Some(8), all),
        rule(CHAR, Some(1), Some(9), all),
        rule(CHAR, Some(5), Some(0), all),
        rule(CHAR, Some(5), Some(2), all),
        rule(CHAR, Some(136), None, all),
    ]
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

// eBPF opcodes used here.
const LDX_W: u8 = 0x61; // r_dst = *(u32 *)(r_src + off)
const AND_K: u8 = 0x57; // 64-bit r_dst &= imm
const RSH_K: u8 = 0x77; // 64-bit r_dst >>= imm
const MOV_K: u8 = 0xb7; // 64-bit r_dst = imm
const MOV_X: u8 = 0xbf; // 64-bit r_dst = r_src
const JNE_K: u8 = 0x55; // if r_dst != imm goto +off
const JNE_X: u8 = 0x5d; // if r_dst != r_src goto +off
const EXIT: u8 = 0x95;

/// The program for `rules`: r2 the device type, r3 the access asked, r4 the
/// major, r5 the minor (from struct bpf_cgroup_dev_ctx); each rule a block
/// that jumps past itself when it does not match, else returns 1 (allow);
/// after the last, 0 (deny).
pub fn program(rules: &[DeviceRule]) -> Vec<BpfInsn> {
    let mut out = vec![
        insn(LDX_W, 2, 1, 0, 0),
        insn(AND_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, 0, 0),
        insn(RSH_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
    ];
    for rule in rules {
        let mut block: Vec<BpfInsn> = Vec::new();
        // Each test jumps to the end of the block; offsets are patched below.
        let mut jumps = Vec::new();
        if let Some(kind) = rule.kind {
            jumps.push(block.len());
            block.push(insn(JNE_K, 2, 0, 0, kind as i32));
        }
        if rule.access != READ | WRITE | MKNOD {
            // Every access asked must be allowed: (asked & allowed) == asked.
            block.push(insn(MOV_X, 1, 3, 0, 0));
            block.push(insn(AND_K, 1, 0, 0, rule.access as i32));
            jumps.push(block.len());
            block.push(insn(JNE_X, 1, 3, 0, 0));
        }
        if let Some(major) = rule.major {
            jumps.push(block.len());
            block.push(insn(JNE_K, 4, 0, 0, major as i32));
        }
        if let Some(minor) = rule.minor {
            jumps.push(block.len());
            block.push(insn(JNE_K, 5, 0, 0, minor as i32));
        }
        block.push(insn(MOV_K, 0, 0, 0, 1));
        block.push(insn(EXIT, 0, 0, 0, 0));
        let len = block.len();
        for at in jumps {
            block[at].off = (len - at - 1) as i16;
        }
        out.extend(block);
    }
    out.push(insn(MOV_K, 0, 0, 0, 0));
    out.push(insn(EXIT, 0, 0, 0, 0));
    out
}

/// What the program decides for a device access: for tests, the same
/// logic read back from the instructions by a tiny interpreter.
#[cfg(test)]
fn run(program: &[BpfInsn], kind: u32, access: u32, major: u32, minor: u32) -> u64 {
    let ctx = [kind | (access << 16), major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = program[pc];
        let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
        pc += 1;
        match i.code {
            LDX_W => r[dst] = u64::from(ctx[i.off as usize / 4]),
            AND_K => r[dst] &= i.imm as u64,
            RSH_K => r[dst] >>= i.imm,
            MOV_K => r[dst] = i.imm as u64,
            MOV_X => r[dst] = r[src],
            JNE_K if r[dst] != i.imm as u64 => pc += i.off as usize,
            JNE_X if r[dst] != r[src] => pc += i.off as usize,
            JNE_K | JNE_X => {}
            EXIT => return r[0],
            other => panic!("opcode {other:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_as_docker_writes_them() {
        let r: DeviceRule = "c 1:3 rwm".parse().unwrap();
        assert_eq!(
            (r.kind, r.major, r.minor, r.access),
            (Some(CHAR), Some(1), Some(3), 7)
        );
        let r: DeviceRule = "a *:* m".parse().unwrap();
        assert_eq!(
            (r.kind, r.major, r.minor, r.access),
            (None, None, None, MKNOD)
        );
        for bad in ["c 1:3", "x 1:3 r", "c 1 r", "c a:3 r", "c 1:3 rx"] {
            assert!(
                bad.parse::<DeviceRule>().unwrap_err().contains(bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_container_program_allows_the_default_list_only() {
        let p = program(&container());
        assert_eq!(run(&p, CHAR, READ | WRITE, 1, 3), 1, "null");
        assert_eq!(run(&p, CHAR, READ, 136, 7), 1, "a pty");
        assert_eq!(run(&p, CHAR, READ, 1, 11), 0, "kmsg");
        assert_eq!(run(&p, CHAR, MKNOD, 1, 11), 1, "mknod of anything");
        assert_eq!(run(&p, CHAR, READ | MKNOD, 1, 11), 0);
        assert_eq!(run(&p, BLOCK, READ, 8, 0), 0, "a disk");
        assert_eq!(run(&p, BLOCK, MKNOD, 8, 0), 1);
        assert_eq!(run(&program(&[]), CHAR, READ, 1, 3), 0, "none");
        let only: DeviceRule = "b 8:* r".parse().unwrap();
        let p = program(&[only]);
        assert_eq!(run(&p, BLOCK, READ, 8, 1), 1);
        assert_eq!(run(&p, BLOCK, WRITE, 8, 1), 0);
        assert_eq!(run(&p, CHAR, READ, 8, 1), 0);
    }
}
