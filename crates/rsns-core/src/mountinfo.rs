//! /proc/PID/mountinfo lines: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS
//! [OPTIONAL...] - FSTYPE SOURCE SUPER` (proc_pid_mountinfo(5)).

/// One mount, with the fields the tools use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: u64,
    pub parent: u64,
    /// The path inside the file system that is mounted (an nsfs mount's
    /// `net:[4026532290]`), unescaped.
    pub root: String,
    /// Where it is mounted, relative to the reader's root, unescaped.
    pub mount_point: String,
    /// The peer group of a shared mount (`shared:N`).
    pub shared: Option<u64>,
    pub fstype: String,
}

/// Every line that parses, in file order.
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

pub fn parse_line(line: &str) -> Option<Mount> {
    let (before, after) = line.split_once(" - ")?;
    let mut fields = before.split(' ');
    let id = fields.next()?.parse().ok()?;
    let parent = fields.next()?.parse().ok()?;
    let root = unescape(fields.nth(1)?);
    let mount_point = unescape(fields.next()?);
    let _options = fields.next()?;
    let shared = fields
        .filter_map(|f| f.strip_prefix("shared:"))
        .find_map(|n| n.parse().ok());
    let fstype = after.split(' ').next()?.to_string();
    Some(Mount {
        id,
        parent,
        root,
        mount_point,
        shared,
        fstype,
    })
}

/// Undoes the kernel's octal escapes of space, tab, newline and backslash.
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
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
    String::from_utf8_lossy(&out).into_owned()
}

fn is_octal(digits: &[u8]) -> bool {
    digits.len() == 3 && digits.iter().all(|d| (b'0'..=b'7').contains(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_optional_tags_and_escapes() {
        let text = "\
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
                root: "net:[4026532290]".into(),
                mount_point: "/run/netns/blue".into(),
                shared: Some(5),
                fstype: "nsfs".into(),
            }
        );
        assert_eq!(mounts[0].shared, None);
        assert_eq!(mounts[2].mount_point, "/tmp/a b\\c");
        assert_eq!(mounts[2].root, "/srv");
    }

    #[test]
    fn a_backslash_without_three_octal_digits_stays() {
        assert_eq!(unescape("a\\9b\\"), "a\\9b\\");
        assert_eq!(unescape("\\011x"), "\tx");
    }
}
