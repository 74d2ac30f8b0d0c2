//! /proc/PID/mountinfo lines: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS
//! [OPTIONAL...] - FSTYPE SOURCE SUPER` (proc_pid_mountinfo(5)).
//!
//! Paths are bytes: a mount point may be named anything but NUL, valid
//! UTF-8 or not, so the file is read and kept as bytes.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// One mount, with the fields the tools use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: u64,
    pub parent: u64,
    /// The path inside the file system that is mounted (an nsfs mount's
    /// `net:[4026532290]`), unescaped.
    pub root: Vec<u8>,
    /// Where it is mounted, relative to the reader's root, unescaped.
    pub mount_point: PathBuf,
    /// The peer group of a shared mount (`shared:N`).
    pub shared: Option<u64>,
    pub fstype: String,
}

/// /proc/self/mountinfo, as bytes.
pub fn read_own() -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    // procfs gives no size, so std::fs::read starts with 32-byte reads and
    // doubles: eight system calls for a 2 KiB table. Room up front: two.
    let mut text = Vec::with_capacity(32 * 1024);
    std::fs::File::open("/proc/self/mountinfo")?.read_to_end(&mut text)?;
    Ok(text)
}

/// Every line that parses, in file order.
pub fn parse(text: &[u8]) -> Vec<Mount> {
    text.split(|&b| b == b'\n').filter_map(parse_line).collect()
}

pub fn parse_line(line: &[u8]) -> Option<Mount> {
    let sep = line.windows(3).position(|w| w == b" - ")?;
    let (before, after) = (&line[..sep], &line[sep + 3..]);
    let mut fields = before.split(|&b| b == b' ');
    let number = |f: &[u8]| std::str::from_utf8(f).ok()?.parse::<u64>().ok();
    let id = number(fields.next()?)?;
    let parent = number(fields.next()?)?;
    let root = unescape(fields.nth(1)?);
    let mount_point = PathBuf::from(OsString::from_vec(unescape(fields.next()?)));
    let _options = fields.next()?;
    let shared = fields
        .filter_map(|f| f.strip_prefix(b"shared:"))
        .find_map(number);
    let fstype = after.split(|&b| b == b' ').next()?;
    Some(Mount {
        id,
        parent,
        root,
        mount_point,
        shared,
        fstype: String::from_utf8_lossy(fstype).into_owned(),
    })
}

/// Undoes the kernel's octal escapes of space, tab, newline and backslash.
pub fn unescape(field: &[u8]) -> Vec<u8> {
    let bytes = field;
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && is_octal(&bytes[i + 1..i + 4]) {
            let value = bytes[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            if let Ok(byte) = u8::try_from(value) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn is_octal(digits: &[u8]) -> bool {
    digits.len() == 3 && digits.iter().all(|d| (b'0'..=b'7').contains(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_optional_tags_and_escapes() {
        let text = b"\
22 1 0:21 / /proc rw,nosuid - proc proc rw
301 29 0:4 net:[4026532290] /run/netns/blue rw master:3 shared:5 - nsfs nsfs rw
302 29 254:0 /srv /tmp/a\\040b\\134c rw - ext4 /dev/vda rw
garbage
";
        let mounts = parse(text);
        assert_eq!(mounts.len(), 3);
        assert_eq!(
            mounts[1],
            Mount {
                id: 301,
                parent: 29,
                root: b"net:[4026532290]".to_vec(),
                mount_point: "/run/netns/blue".into(),
                shared: Some(5),
                fstype: "nsfs".into(),
            }
        );
        assert_eq!(mounts[0].shared, None);
        assert_eq!(mounts[2].mount_point, PathBuf::from("/tmp/a b\\c"));
        assert_eq!(mounts[2].root, b"/srv");
    }

    #[test]
    fn a_path_that_is_not_utf8_is_kept_as_bytes() {
        let text = b"40 1 0:4 / /tmp/caf\xe9 rw - tmpfs tmpfs rw\n";
        let mounts = parse(text);
        assert_eq!(mounts.len(), 1);
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(
            mounts[0].mount_point.as_os_str().as_bytes(),
            b"/tmp/caf\xe9"
        );
    }

    #[test]
    fn a_backslash_without_three_octal_digits_stays() {
        assert_eq!(unescape(b"a\\9b\\"), b"a\\9b\\");
        assert_eq!(unescape(b"\\011x"), b"\tx");
    }
}
