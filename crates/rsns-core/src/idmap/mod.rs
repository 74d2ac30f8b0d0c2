//! User and group id maps: the specs users type, /etc/subuid and /etc/subgid,
//! the map written to /proc/PID/{uid,gid}_map, and writing it.

mod build;
mod subid;
mod write;

use std::fmt;
use std::path::PathBuf;

pub use build::IdMap;
pub use subid::{SubIdRange, find_subid_range, parse_subid_line};
pub use write::{MapPlan, MapWriter, ProcTarget, Setgroups, apply_map_plan};

use crate::error::SysError;

/// The largest id the kernel maps; (u32)-1 means "no id".
pub const MAX_ID: u32 = u32::MAX - 1;

/// The kernel refuses maps with more lines than this (since Linux 4.15).
pub const MAX_MAP_LINES: usize = 340;

/// Users or groups: names the files and helpers of each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

impl IdKind {
    pub fn map_file(self) -> &'static str {
        match self {
            IdKind::Uid => "uid_map",
            IdKind::Gid => "gid_map",
        }
    }

    pub fn subid_file(self) -> &'static str {
        match self {
            IdKind::Uid => "/etc/subuid",
            IdKind::Gid => "/etc/subgid",
        }
    }

    pub fn helper(self) -> &'static str {
        match self {
            IdKind::Uid => "newuidmap",
            IdKind::Gid => "newgidmap",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Uid => "uid",
            IdKind::Gid => "gid",
        })
    }
}

/// `count` ids from `outer` (in our namespace) shown as ids from `inner` inside
/// the new one: one line of /proc/PID/uid_map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub inner: u32,
    pub outer: u32,
    pub count: u32,
}

impl IdRange {
    pub fn new(inner: u32, outer: u32, count: u32) -> Result<IdRange, RangeError> {
        if count == 0 {
            return Err(RangeError::ZeroCount);
        }
        let fits = |start: u32| u64::from(start) + u64::from(count) <= u64::from(u32::MAX);
        if !fits(inner) || !fits(outer) {
            return Err(RangeError::PastMaxId);
        }
        Ok(IdRange {
            inner,
            outer,
            count,
        })
    }

    fn inner_end(&self) -> u64 {
        u64::from(self.inner) + u64::from(self.count)
    }

    fn outer_end(&self) -> u64 {
        u64::from(self.outer) + u64::from(self.count)
    }
}

/// Shown as the current spec syntax, `INNER:OUTER:COUNT`.
impl fmt::Display for IdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.inner, self.outer, self.count)
    }
}

/// A value of --map-users / --map-groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    Range(IdRange),
    /// The first subordinate range of the user, mapped from id 0.
    Auto,
    /// The first subordinate range of the user, mapped to itself.
    SubIds,
    /// Every id we have, mapped to itself.
    All,
}

/// Why a spec does not parse. Shown after clap's "invalid value 'X' for ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("expected INNER:OUTER:COUNT (or the older OUTER,INNER,COUNT), auto, subids or all")]
    Syntax,
    #[error("a count of 0 maps nothing")]
    ZeroCount,
    #[error("the range reaches past {MAX_ID}, the largest id")]
    PastMaxId,
}

/// Parses `inner:outer:count`, the pre-2.39 `outer,inner,count`, `auto`,
/// `subids` or `all`.
pub fn parse_range_spec(text: &str) -> Result<RangeSpec, RangeError> {
    match text {
        "auto" => return Ok(RangeSpec::Auto),
        "subids" => return Ok(RangeSpec::SubIds),
        "all" => return Ok(RangeSpec::All),
        _ => {}
    }
    let (sep, colon_form) = if text.contains(':') {
        (':', true)
    } else {
        (',', false)
    };
    let fields: Vec<&str> = text.split(sep).collect();
    let [a, b, c] = fields[..] else {
        return Err(RangeError::Syntax);
    };
    let number = |s: &str| -> Result<u32, RangeError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RangeError::Syntax);
        }
        s.parse().map_err(|_| RangeError::PastMaxId)
    };
    let (a, b, count) = (number(a)?, number(b)?, number(c)?);
    let (inner, outer) = if colon_form { (a, b) } else { (b, a) };
    IdRange::new(inner, outer, count).map(RangeSpec::Range)
}

/// Errors of building, looking up and writing id maps.
#[derive(Debug, thiserror::Error)]
pub enum IdMapError {
    #[error("{kind} ranges {a} and {b} overlap {side}")]
    Overlap {
        kind: IdKind,
        a: IdRange,
        b: IdRange,
        side: &'static str,
    },
    #[error(
        "the {kind} map has {lines} lines; the kernel takes at most {MAX_MAP_LINES} lines and 4095 bytes"
    )]
    TooLarge { kind: IdKind, lines: usize },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no line for user '{user}' (uid {uid}) in {path}; hint: add a range, e.g. `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`"
    )]
    NoSubIds {
        path: PathBuf,
        user: String,
        uid: u32,
    },
    #[error("malformed line for user '{user}' in {path}: '{line}' (expected NAME:START:COUNT)")]
    BadSubIdLine {
        path: PathBuf,
        user: String,
        line: String,
    },
    #[error("{0}")]
    Write(#[from] SysError),
    #[error("{program} {args} failed{status}: {message}; hint: {hint}")]
    Helper {
        program: &'static str,
        args: String,
        status: String,
        message: String,
        hint: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(inner: u32, outer: u32, count: u32) -> RangeSpec {
        RangeSpec::Range(IdRange::new(inner, outer, count).unwrap())
    }

    #[test]
    fn parses_both_orders_and_keywords() {
        assert_eq!(
            parse_range_spec("0:100000:65536"),
            Ok(range(0, 100000, 65536))
        );
        // The older form names the outer id first.
        assert_eq!(
            parse_range_spec("100000,0,65536"),
            Ok(range(0, 100000, 65536))
        );
        assert_eq!(parse_range_spec("auto"), Ok(RangeSpec::Auto));
        assert_eq!(parse_range_spec("subids"), Ok(RangeSpec::SubIds));
        assert_eq!(parse_range_spec("all"), Ok(RangeSpec::All));
        assert_eq!(
            parse_range_spec("0:0:4294967295"),
            Ok(range(0, 0, u32::MAX))
        );
    }

    #[test]
    fn rejects_malformed_specs() {
        for bad in [
            "", "1:2", "1:2:3:4", "a:b:c", "1,2:3", "1:2:", ":1:2", "-1:0:1", "1 :2:3", "AUTO",
            "1,2",
        ] {
            assert_eq!(parse_range_spec(bad), Err(RangeError::Syntax), "{bad:?}");
        }
        assert_eq!(parse_range_spec("0:0:0"), Err(RangeError::ZeroCount));
        assert_eq!(
            parse_range_spec("1:0:4294967295"),
            Err(RangeError::PastMaxId)
        );
        assert_eq!(
            parse_range_spec("0:4294967295:1"),
            Err(RangeError::PastMaxId)
        );
        assert_eq!(
            parse_range_spec("0:99999999999:1"),
            Err(RangeError::PastMaxId)
        );
    }
}
