//! /etc/subuid and /etc/subgid: `NAME:START:COUNT` lines, NAME a login or a uid.

use std::path::Path;

use super::IdMapError;

/// A user's subordinate id range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubIdRange {
    pub start: u32,
    pub count: u32,
}

/// Splits one line into owner, start and count; `None` for blank lines,
/// comments and lines that are not three fields.
pub fn parse_subid_line(line: &str) -> Option<(&str, Result<SubIdRange, ()>)> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() || line.trim_start().starts_with('#') {
        return None;
    }
    let mut fields = line.split(':');
    let (owner, start, count) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() {
        return None;
    }
    let number = |s: &str| -> Result<u32, ()> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        s.parse().map_err(drop)
    };
    let range = match (number(start), number(count)) {
        (Ok(start), Ok(count)) if count > 0 => Ok(SubIdRange { start, count }),
        _ => Err(()),
    };
    Some((owner, range))
}

/// The first range of `user` (matched by name or by uid) in the text of a
/// subordinate id file, as newuidmap and unshare(1) read it.
pub fn find_subid_range(
    content: &str,
    path: &Path,
    user: &str,
    uid: u32,
) -> Result<SubIdRange, IdMapError> {
    let uid_text = uid.to_string();
    for line in content.lines() {
        let Some((owner, range)) = parse_subid_line(line) else {
            continue;
        };
        if owner != user && owner != uid_text {
            continue;
        }
        return range.map_err(|()| IdMapError::BadSubIdLine {
            path: path.to_path_buf(),
            user: user.to_string(),
            line: line.to_string(),
        });
    }
    Err(IdMapError::NoSubIds {
        path: path.to_path_buf(),
        user: user.to_string(),
        uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# comment
alice:100000:65536
1001:165536:65536
alice:300000:10
broken:line
bob:abc:10
";

    fn find(user: &str, uid: u32) -> Result<SubIdRange, IdMapError> {
        find_subid_range(FILE, Path::new("/etc/subuid"), user, uid)
    }

    #[test]
    fn first_line_by_name_or_uid() {
        assert_eq!(
            find("alice", 1000).unwrap(),
            SubIdRange {
                start: 100000,
                count: 65536
            }
        );
        assert_eq!(
            find("carol", 1001).unwrap(),
            SubIdRange {
                start: 165536,
                count: 65536
            }
        );
    }

    #[test]
    fn missing_user_names_user_and_file() {
        let err = find("dave", 1002).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("'dave'"), "{text}");
        assert!(text.contains("/etc/subuid"), "{text}");
        assert!(text.contains("usermod --add-subuids"), "{text}");
    }

    #[test]
    fn malformed_matching_line_is_an_error() {
        let err = find("bob", 1003).unwrap_err();
        assert!(matches!(err, IdMapError::BadSubIdLine { .. }), "{err}");
    }

    #[test]
    fn line_parser_edges() {
        assert!(parse_subid_line("").is_none());
        assert!(parse_subid_line("   ").is_none());
        assert!(parse_subid_line("#x:1:2").is_none());
        assert!(parse_subid_line("a:1").is_none());
        assert!(parse_subid_line("a:1:2:3").is_none());
        assert_eq!(parse_subid_line("a:1:0").unwrap().1, Err(()));
        assert_eq!(parse_subid_line("a:1:99999999999").unwrap().1, Err(()));
        assert_eq!(
            parse_subid_line("a:1:2\r\n").unwrap(),
            ("a", Ok(SubIdRange { start: 1, count: 2 }))
        );
    }
}
