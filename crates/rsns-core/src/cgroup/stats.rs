//! `--stats`: what a whole group used, from its interface files, like
//! time(1) for a box and everything it started.

use std::time::Duration;

use super::group::Group;

/// What the group used; `None` where the kernel has no such file (or the
/// controller was not enabled for the group).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub wall: Duration,
    pub cpu_user_us: Option<u64>,
    pub cpu_system_us: Option<u64>,
    pub memory_peak: Option<u64>,
    pub oom_kills: Option<u64>,
    pub pids_peak: Option<u64>,
    pub io_read: Option<u64>,
    pub io_write: Option<u64>,
}

/// `--stats=text|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsFormat {
    Text,
    Json,
}

/// The sums of `rbytes=` and `wbytes=` over the devices of an io.stat text.
pub fn io_bytes(text: &str) -> (u64, u64) {
    let mut read = 0;
    let mut written = 0;
    for field in text.split_whitespace() {
        if let Some(n) = field.strip_prefix("rbytes=") {
            read += n.parse::<u64>().unwrap_or(0);
        } else if let Some(n) = field.strip_prefix("wbytes=") {
            written += n.parse::<u64>().unwrap_or(0);
        }
    }
    (read, written)
}

impl Stats {
    pub fn read(group: &Group, wall: Duration) -> Stats {
        let io = std::fs::read_to_string(group.dir.join("io.stat"))
            .ok()
            .map(|t| io_bytes(&t));
        Stats {
            wall,
            cpu_user_us: group.stat("cpu.stat", "user_usec"),
            cpu_system_us: group.stat("cpu.stat", "system_usec"),
            memory_peak: group.number("memory.peak"),
            oom_kills: group.stat("memory.events", "oom_kill"),
            pids_peak: group.number("pids.peak"),
            io_read: io.map(|(r, _)| r),
            io_write: io.map(|(_, w)| w),
        }
    }

    pub fn render(&self, format: StatsFormat) -> String {
        let secs = |us: Option<u64>| us.map(|us| us as f64 / 1e6);
        match format {
            StatsFormat::Json => {
                let value = serde_json::json!({
                    "wall_s": self.wall.as_secs_f64(),
                    "cpu_user_s": secs(self.cpu_user_us),
                    "cpu_system_s": secs(self.cpu_system_us),
                    "memory_peak_bytes": self.memory_peak,
                    "oom_kills": self.oom_kills,
                    "pids_peak": self.pids_peak,
                    "io_read_bytes": self.io_read,
                    "io_write_bytes": self.io_write,
                });
                value.to_string()
            }
            StatsFormat::Text => {
                let s = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3} s"));
                let bytes = |v: Option<u64>| v.map_or("-".to_string(), human_bytes);
                let count = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
                format!(
                    "wall {:.3} s, user {}, system {}, memory peak {}, OOM kills {}, processes \
                     peak {}, read {}, written {}",
                    self.wall.as_secs_f64(),
                    s(secs(self.cpu_user_us)),
                    s(secs(self.cpu_system_us)),
                    bytes(self.memory_peak),
                    count(self.oom_kills),
                    count(self.pids_peak),
                    bytes(self.io_read),
                    bytes(self.io_write),
                )
            }
        }
    }
}

/// 1536 -> `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_stat_sums_every_device() {
        let text = "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n\
                    8:0 rbytes=100 wbytes=0 rios=1 wios=0\n";
        assert_eq!(io_bytes(text), (4196, 8192));
        assert_eq!(io_bytes(""), (0, 0));
    }

    #[test]
    fn json_has_the_keys_and_null_for_what_is_missing() {
        let stats = Stats {
            wall: Duration::from_millis(1500),
            cpu_user_us: Some(250_000),
            cpu_system_us: Some(0),
            memory_peak: None,
            oom_kills: Some(1),
            pids_peak: None,
            io_read: None,
            io_write: None,
        };
        let v: serde_json::Value = serde_json::from_str(&stats.render(StatsFormat::Json)).unwrap();
        assert_eq!(v["wall_s"], 1.5);
        assert_eq!(v["cpu_user_s"], 0.25);
        assert_eq!(v["cpu_system_s"], 0.0);
        assert!(v["memory_peak_bytes"].is_null());
        assert_eq!(v["oom_kills"], 1);
        assert!(v["pids_peak"].is_null());
        let text = stats.render(StatsFormat::Text);
        assert!(text.starts_with("wall 1.500 s, user 0.250 s"), "{text}");
        assert!(!text.contains('\n'));
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 B");
    }
}
