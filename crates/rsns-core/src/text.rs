//! Bytes from the kernel (paths, command names) shown as text: what is
//! printable UTF-8 stays, every other byte becomes `\xHH`, as util-linux's
//! tables show them. Nothing is lost and one cell stays one line.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What [`encode`] writes for one character of valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    Keep,
    /// Each of its bytes as `\xHH`.
    Hex,
    /// As `\\` (a backslash in [`lossless`] text).
    Double,
}

/// `bytes` as text: each valid character as `rule` says (given the byte
/// after it), every byte that is not UTF-8 as `\xHH`. The one encoder
/// behind the table, raw, lossless and message forms.
pub fn encode(bytes: &[u8], rule: impl Fn(char, Option<u8>) -> Escape) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len());
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        for (i, c) in valid.char_indices() {
            match rule(c, bytes.get(at + i + c.len_utf8()).copied()) {
                Escape::Keep => out.push(c),
                Escape::Double => out.push_str("\\\\"),
                Escape::Hex => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
        at += valid.len() + chunk.invalid().len();
    }
    out
}

/// `bytes` as printable text, with `\xHH` for invalid UTF-8 and control bytes.
pub fn safe(bytes: &[u8]) -> String {
    encode(bytes, |c, _| {
        if c.is_control() {
            Escape::Hex
        } else {
            Escape::Keep
        }
    })
}

/// `bytes` without loss, as a String: valid UTF-8 stays as it is (control
/// characters too), a backslash becomes `\\`, and a byte that is not UTF-8
/// becomes `\xHH`. [`lossless_bytes`] gives the bytes back, so each output
/// format escapes from the real text by its own rule and two different
/// texts never print the same.
pub fn lossless(bytes: &[u8]) -> String {
    encode(bytes, |c, _| {
        if c == '\\' {
            Escape::Double
        } else {
            Escape::Keep
        }
    })
}

/// [`lossless`], with control characters as `\xHH` too: for texts joined
/// by newlines (NSFS), where a newline of a path must not split it.
pub fn lossless_line(bytes: &[u8]) -> String {
    encode(bytes, |c, _| match c {
        '\\' => Escape::Double,
        c if c.is_control() => Escape::Hex,
        _ => Escape::Keep,
    })
}

/// The bytes a [`lossless`] text stands for. Text made otherwise (with no
/// backslash) is its own bytes.
pub fn lossless_bytes(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let Some(v) = text
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
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

    #[test]
    fn lossless_text_gives_the_bytes_back_and_keeps_them_apart() {
        for bytes in [
            &b"plain"[..],
            b"a\nb",
            b"a\\x0ab",
            b"caf\xe9",
            b"caf\\xe9",
            b"\\\\",
            b"end\\",
            "é\t".as_bytes(),
        ] {
            assert_eq!(lossless_bytes(&lossless(bytes)), bytes, "{bytes:?}");
        }
        assert_ne!(lossless(b"a\nb"), lossless(b"a\\x0ab"));
        assert_eq!(lossless_bytes(&lossless_line(b"a\nb")), b"a\nb");
        assert!(!lossless_line(b"a\nb").contains('\n'));
        assert_ne!(lossless(b"caf\xe9"), lossless(b"caf\\xe9"));
    }
}
