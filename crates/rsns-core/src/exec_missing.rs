//! Why a program could not be found where we looked, for the message:
//! missing from the root file system (a distroless image has no shell and
//! no tools), or there but its ELF interpreter (the dynamic loader) is not,
//! which exec(2) also reports as ENOENT.

use std::ffi::CStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// PT_INTERP's path in an ELF file's header, if it has one.
pub fn elf_interpreter(head: &[u8]) -> Option<Vec<u8>> {
    if head.get(..4)? != b"\x7fELF" || *head.get(5)? != 1 {
        return None; // not ELF, or big-endian (not ours to read)
    }
    let wide = match head.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let u16_at = |at: usize| Some(u16::from_le_bytes(head.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(head.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(head.get(at..at + 8)?.try_into().ok()?));
    let word = |at32: usize, at64: usize| -> Option<usize> {
        if wide {
            usize::try_from(u64_at(at64)?).ok()
        } else {
            usize::try_from(u32_at(at32)?).ok()
        }
    };
    let phoff = word(0x1c, 0x20)?;
    let (phentsize, phnum) = if wide {
        (u16_at(0x36)?, u16_at(0x38)?)
    } else {
        (u16_at(0x2a)?, u16_at(0x2c)?)
    };
    for i in 0..usize::from(phnum) {
        let ph = phoff.checked_add(i.checked_mul(usize::from(phentsize))?)?;
        if u32_at(ph)? != 3 {
            continue; // PT_INTERP
        }
        let (offset, size) = if wide {
            (word(0, ph + 8)?, word(0, ph + 32)?)
        } else {
            (word(ph + 4, 0)?, word(ph + 16, 0)?)
        };
        let path = head.get(offset..offset.checked_add(size)?)?;
        return Some(path.split(|b| *b == 0).next()?.to_vec());
    }
    None
}

/// Why `candidates` (the paths execvp would try) gave ENOENT, in this root:
/// the first that exists names its missing interpreter; else none exists.
pub fn why_missing<'a>(program: &str, candidates: impl Iterator<Item = &'a CStr>) -> String {
    for c in candidates {
        let path = Path::new(std::ffi::OsStr::from_bytes(c.to_bytes()));
        let Ok(mut file) = std::fs::File::open(path) else {
            continue;
        };
        let mut head = vec![0u8; 4096];
        let n = file.read(&mut head).unwrap_or(0);
        head.truncate(n);
        if let Some(interp) = elf_interpreter(&head) {
            let interp = Path::new(std::ffi::OsStr::from_bytes(&interp));
            if !interp.exists() {
                return format!(
                    "{} is there, but its ELF interpreter {} is not",
                    path.display(),
                    interp.display()
                );
            }
        }
        return format!("{} is there, and cannot run", path.display());
    }
    if program.contains('/') {
        format!("{program} is not in this root file system")
    } else {
        format!("no {program} on PATH in this root file system")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interpreter_of_this_test_and_of_no_elf() {
        // This test program is dynamically linked: its interpreter exists.
        let me = std::fs::read("/proc/self/exe").unwrap();
        let interp = elf_interpreter(&me[..4096.min(me.len())]).unwrap();
        assert!(Path::new(std::ffi::OsStr::from_bytes(&interp)).exists());
        assert_eq!(elf_interpreter(b"#!/bin/sh\n"), None);
        assert_eq!(elf_interpreter(b"\x7fELF\x02\x01"), None);
    }

    #[test]
    fn what_is_missing() {
        let dir = std::env::temp_dir().join(format!("rsns-missing-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // An ELF whose loader is a path that does not exist.
        let mut elf = std::fs::read("/proc/self/exe").unwrap();
        let interp = elf_interpreter(&elf[..4096]).unwrap();
        let at = elf.windows(interp.len()).position(|w| w == interp).unwrap();
        let fake = b"/nonexistent/ld.so";
        elf[at..at + fake.len()].copy_from_slice(fake);
        elf[at + fake.len()] = 0;
        let prog = dir.join("prog");
        std::fs::write(&prog, &elf[..8192]).unwrap();
        let c = std::ffi::CString::new(prog.as_os_str().as_bytes()).unwrap();
        assert_eq!(
            why_missing("prog", [c.as_c_str()].into_iter()),
            format!(
                "{} is there, but its ELF interpreter /nonexistent/ld.so is not",
                prog.display()
            )
        );
        let none = std::ffi::CString::new("/nonexistent/ss").unwrap();
        assert_eq!(
            why_missing("ss", [none.as_c_str()].into_iter()),
            "no ss on PATH in this root file system"
        );
        assert_eq!(
            why_missing("/bin/ss", [none.as_c_str()].into_iter()),
            "/bin/ss is not in this root file system"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
