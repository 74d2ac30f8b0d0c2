//! rs-cgroup's limits: the values people type (`256M`, `1.5`, `max`) turned
//! into what the interface files take, each checked before anything is made.

use std::fmt;

/// One interface file and the value to write into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub file: String,
    pub value: String,
}

impl Limit {
    pub fn new(file: &str, value: impl Into<String>) -> Limit {
        Limit {
            file: file.to_string(),
            value: value.into(),
        }
    }

    /// The controller that provides the file (`memory` for memory.max), if
    /// the file belongs to one rather than to the cgroup core.
    pub fn controller(&self) -> Option<&str> {
        let (prefix, _) = self.file.split_once('.')?;
        (prefix != "cgroup").then_some(prefix)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.file, self.value)
    }
}

/// A value that does not parse, with the option and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: '{value}' {why}")]
pub struct BadValue {
    pub option: String,
    pub value: String,
    pub why: String,
}

fn bad(option: &str, value: &str, why: &str) -> BadValue {
    BadValue {
        option: option.to_string(),
        value: value.to_string(),
        why: why.to_string(),
    }
}

/// `SIZE`: bytes, with K, M, G or T (powers of 1024, optionally `iB`/`B`),
/// or `max`. What memory.max and friends take: bytes, or `max`.
pub fn size(option: &str, text: &str) -> Result<String, BadValue> {
    if text == "max" {
        return Ok("max".into());
    }
    let why = "is not a size (bytes, or a number with K, M, G or T, or max)";
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(bad(option, text, why));
    }
    let (number, suffix) = text.split_at(digits);
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(bad(option, text, why)),
    };
    let n: u64 = number.parse().map_err(|_| bad(option, text, why))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| bad(option, text, "is too large"))?;
    Ok(bytes.to_string())
}

/// cpu.max's period: 100 ms, the kernel's default.
pub const CPU_PERIOD_US: u64 = 100_000;

/// `--cpus=N`: how many CPUs' worth of time, fractional (`0.5`), as cpu.max's
/// `QUOTA PERIOD`; `max` for no limit.
pub fn cpus(text: &str) -> Result<String, BadValue> {
    if text == "max" {
        return Ok(format!("max {CPU_PERIOD_US}"));
    }
    let why = "is not a number of CPUs above 0 (like 1.5), nor max";
    let n: f64 = text.parse().map_err(|_| bad("--cpus", text, why))?;
    if !n.is_finite() || n <= 0.0 {
        return Err(bad("--cpus", text, why));
    }
    let quota = (n * CPU_PERIOD_US as f64).round() as u64;
    // The kernel takes at least 1 ms of quota per period.
    if quota < 1000 {
        return Err(bad("--cpus", text, "is below the smallest quota, 0.01 CPU"));
    }
    Ok(format!("{quota} {CPU_PERIOD_US}"))
}

/// `--pids=N`: a positive number of processes, or `max`.
pub fn pids(text: &str) -> Result<String, BadValue> {
    if text == "max" {
        return Ok("max".into());
    }
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.to_string()),
        _ => Err(bad(
            "--pids",
            text,
            "is not a number of processes above 0, nor max",
        )),
    }
}

/// A weight (cpu.weight, io.weight): 1 to 10000.
pub fn weight(option: &str, text: &str) -> Result<String, BadValue> {
    match text.parse::<u32>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n.to_string()),
        _ => Err(bad(option, text, "is not a weight from 1 to 10000")),
    }
}

/// `--cpuset=LIST`: CPU numbers and ranges (`0-3,6`).
pub fn cpu_list(text: &str) -> Result<String, BadValue> {
    let ok = !text.is_empty()
        && text.split(',').all(|part| {
            let mut ends = part.splitn(2, '-');
            let number = |s: Option<&str>| {
                s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            };
            let first = ends.next();
            let second = ends.next();
            number(first) && (second.is_none() || number(second))
        });
    if ok {
        Ok(text.to_string())
    } else {
        Err(bad("--cpuset", text, "is not a list of CPUs like 0-3,6"))
    }
}

/// The core files (`cgroup.*`) that are limits, and so may be `--set`; the
/// others run the group itself (cgroup.procs, cgroup.kill, cgroup.freeze,
/// cgroup.subtree_control, ...), which is rs-cgroup's job.
const CORE_LIMITS: [&str; 2] = ["cgroup.max.depth", "cgroup.max.descendants"];

/// A value as messages show it: a long one cut, with its length.
pub fn shown(value: &str) -> String {
    const MAX: usize = 64;
    if value.len() <= MAX {
        return value.to_string();
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &value[..end], value.len())
}

/// `--set=FILE=VALUE`: an interface file of the group, named without a
/// path, that holds a limit.
pub fn set(text: &str) -> Result<Limit, BadValue> {
    let (file, value) = text
        .split_once('=')
        .ok_or_else(|| bad("--set", &shown(text), "is not FILE=VALUE"))?;
    // controller.name[.name...]: lower-case words joined by dots.
    let plain = file.split('.').count() >= 2
        && file.split('.').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if !plain {
        return Err(bad(
            "--set",
            &shown(text),
            "does not name an interface file (like memory.oom.group)",
        ));
    }
    if file.starts_with("cgroup.") && !CORE_LIMITS.contains(&file) {
        return Err(bad(
            "--set",
            &shown(text),
            &format!(
                "names a core file that runs the group, not a limit; rs-cgroup runs the group \
                 itself (the core files --set takes: {})",
                CORE_LIMITS.join(", ")
            ),
        ));
    }
    if value.is_empty() {
        return Err(bad("--set", text, "has no value (FILE=VALUE)"));
    }
    Ok(Limit::new(file, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes_and_max() {
        assert_eq!(size("--memory", "256M").unwrap(), "268435456");
        assert_eq!(size("--memory", "1g").unwrap(), "1073741824");
        assert_eq!(size("--memory", "64KiB").unwrap(), "65536");
        assert_eq!(size("--memory", "4096").unwrap(), "4096");
        assert_eq!(size("--memory", "max").unwrap(), "max");
        for bad in ["12XB", "", "M", "-1", "1.5G", "99999999999T"] {
            assert!(size("--memory", bad).is_err(), "{bad}");
        }
        assert_eq!(
            size("--memory", "12XB").unwrap_err().to_string(),
            "--memory: '12XB' is not a size (bytes, or a number with K, M, G or T, or max)"
        );
    }

    #[test]
    fn cpus_become_quota_and_period() {
        assert_eq!(cpus("0.5").unwrap(), "50000 100000");
        assert_eq!(cpus("1.5").unwrap(), "150000 100000");
        assert_eq!(cpus("2").unwrap(), "200000 100000");
        assert_eq!(cpus("max").unwrap(), "max 100000");
        for bad in ["0", "-1", "abc", "0.001", "inf", "NaN"] {
            assert!(cpus(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pids_weights_and_cpu_lists() {
        assert_eq!(pids("64").unwrap(), "64");
        assert!(pids("-3").is_err());
        assert!(pids("0").is_err());
        assert_eq!(weight("--cpu-weight", "100").unwrap(), "100");
        assert!(weight("--io-weight", "0").is_err());
        assert!(weight("--io-weight", "10001").is_err());
        assert_eq!(cpu_list("0-3,6").unwrap(), "0-3,6");
        for bad in ["", "a", "1-", "-2", "1,,2"] {
            assert!(cpu_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_names_a_plain_file() {
        let l = set("memory.oom.group=1").unwrap();
        assert_eq!(
            (l.file.as_str(), l.value.as_str()),
            ("memory.oom.group", "1")
        );
        assert_eq!(l.controller(), Some("memory"));
        assert_eq!(set("cgroup.max.depth=2").unwrap().controller(), None);
        for bad in [
            "memory.max",
            "../x=1",
            "=1",
            "nodot=1",
            "a/b.c=1",
            "..=1",
            ".max=1",
            "memory.max=",
            "cgroup.procs=1",
            "cgroup.kill=1",
            "cgroup.freeze=1",
            "cgroup.subtree_control=+memory",
        ] {
            assert!(set(bad).is_err(), "{bad}");
        }
        assert_eq!(
            set("cgroup.max.descendants=0").unwrap().file,
            "cgroup.max.descendants"
        );
        let long = format!("memory.max={}", "9".repeat(100_000));
        assert!(set(&long).is_ok());
        assert!(shown(&"9".repeat(100_000)).ends_with("... (100000 bytes)"));
        assert!(
            set("cgroup.kill=1")
                .unwrap_err()
                .to_string()
                .contains("runs the group"),
            "{}",
            set("cgroup.kill=1").unwrap_err()
        );
    }
}
