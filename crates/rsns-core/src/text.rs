//! Bytes from the kernel (paths, command names) shown as text: what is
//! printable UTF-8 stays, every other byte becomes `\xHH`, as util-linux's
//! tables show them. Nothing is lost and one cell stays one line.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `bytes` as printable text, with `\xHH` for invalid UTF-8 and control bytes.
pub fn safe(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A path as printable text (see [`safe`]).
pub fn safe_path(path: &Path) -> String {
    safe(path.as_os_str().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_stays_and_the_rest_is_escaped() {
        assert_eq!(safe(b"/run/netns/blue"), "/run/netns/blue");
        assert_eq!(safe("/tmp/café b".as_bytes()), "/tmp/café b");
        assert_eq!(safe(b"/tmp/caf\xe9"), "/tmp/caf\\xe9");
        assert_eq!(safe(b"a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
    }
}
