//! rs-cgroup's command line.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Parser};
use rsns_core::cgroup::devices::DeviceRule;
use rsns_core::cgroup::limits::{self, Limit};
use rsns_core::cgroup::run::CgroupOptions;
use rsns_core::cgroup::stats::StatsFormat;

const EXAMPLES: &str = "\
Examples:
  rs-cgroup --memory=256M --pids=64 -- make -j8            limits for a build and all it starts
  rs-cgroup --cpus=0.5 --stats -- ./bench                  half a CPU; what it used, on stderr
  rs-cgroup --memory=256M -- rs-unshare -pfmur --root=rootfs sh    a box with limits

Exit status: the program's (128+N when it died by signal N, and we die by the
same signal), 126 if it cannot run, 127 if it is not found, 1 for our own
errors. Whatever the program left running is killed when it ends.
Documentation: docs/rs-cgroup.md";

#[derive(Parser, Debug)]
#[command(
    name = "rs-cgroup",
    version,
    about = "Run a program in a new cgroup v2 group with limits; kill what it leaves behind",
    override_usage = "rs-cgroup [OPTIONS] [--] PROGRAM [ARG]...",
    after_help = EXAMPLES,
    args_override_self = true
)]
pub struct Cli {
    /// Memory limit (memory.max): bytes, K, M, G, T, or max
    #[arg(long = "memory", value_name = "SIZE", value_parser = |s: &str| limits::size("--memory", s))]
    pub memory: Option<String>,
    /// Memory throttling point (memory.high)
    #[arg(long = "memory-high", value_name = "SIZE", value_parser = |s: &str| limits::size("--memory-high", s))]
    pub memory_high: Option<String>,
    /// Swap limit (memory.swap.max)
    #[arg(long = "swap", value_name = "SIZE", value_parser = |s: &str| limits::size("--swap", s))]
    pub swap: Option<String>,
    /// CPUs' worth of time, fractional (cpu.max: 0.5 is 50000 100000)
    #[arg(long = "cpus", value_name = "N", value_parser = limits::cpus)]
    pub cpus: Option<String>,
    /// CPU weight, 1 to 10000 (cpu.weight)
    #[arg(long = "cpu-weight", value_name = "W", value_parser = |s: &str| limits::weight("--cpu-weight", s))]
    pub cpu_weight: Option<String>,
    /// Most processes and threads at once (pids.max)
    #[arg(long = "pids", value_name = "N", value_parser = limits::pids)]
    pub pids: Option<String>,
    /// CPUs the group may run on, like 0-3,6 (cpuset.cpus)
    #[arg(long = "cpuset", value_name = "LIST", value_parser = limits::cpu_list)]
    pub cpuset: Option<String>,
    /// IO weight, 1 to 10000 (io.weight)
    #[arg(long = "io-weight", value_name = "W", value_parser = |s: &str| limits::weight("--io-weight", s))]
    pub io_weight: Option<String>,
    /// Write VALUE to the group's interface FILE (repeatable), e.g. memory.oom.group=1
    #[arg(long = "set", value_name = "FILE=VALUE", value_parser = limits::set, action = ArgAction::Append)]
    pub set: Vec<Limit>,
    /// Create the group under DIR (default for root: rsns at the top of the hierarchy)
    #[arg(long = "parent", value_name = "DIR", conflicts_with = "join")]
    pub parent: Option<PathBuf>,
    /// The group's name (default: rsns-PID)
    #[arg(long = "name", value_name = "NAME", conflicts_with = "join")]
    pub name: Option<String>,
    /// Run in this existing group instead: no limits, nothing removed
    #[arg(long = "join", value_name = "DIR")]
    pub join: Option<PathBuf>,
    /// Leave the group, and what still runs in it, when the program ends
    #[arg(long = "keep", conflicts_with = "join")]
    pub keep: bool,
    /// After the end, what the whole group used, on stderr (text or json)
    #[arg(long = "stats", value_name = "FORMAT", num_args = 0..=1, require_equals = true,
          default_missing_value = "text", value_parser = ["text", "json"])]
    pub stats: Option<String>,
    /// Write the --stats to FILE instead of stderr (like time -o); implies --stats
    #[arg(long = "stats-file", value_name = "FILE")]
    pub stats_file: Option<PathBuf>,
    /// A device policy for the group (a BPF program): container (docker's and podman's
    /// default list) or none
    #[arg(long = "devices", value_name = "container|none", value_parser = ["container", "none"],
          conflicts_with = "join")]
    pub devices: Option<String>,
    /// Allow devices too, in docker's --device-cgroup-rule syntax: 'c 1:3 rwm' (repeatable;
    /// without --devices, nothing else is allowed)
    #[arg(long = "device-allow", value_name = "RULE", action = ArgAction::Append,
          conflicts_with = "join", value_parser = parse_device_rule)]
    pub device_allow: Vec<DeviceRule>,
    /// Log the steps on stderr (-vv: more)
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// The program and its arguments
    #[arg(
        value_name = "PROGRAM",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

fn parse_device_rule(text: &str) -> Result<DeviceRule, String> {
    text.parse()
}

impl Cli {
    pub fn into_options(self) -> CgroupOptions {
        let mut limits = Vec::new();
        let mut add = |file: &str, value: Option<String>| {
            if let Some(v) = value {
                limits.push(Limit::new(file, v));
            }
        };
        add("memory.max", self.memory);
        add("memory.high", self.memory_high);
        add("memory.swap.max", self.swap);
        add("cpu.max", self.cpus);
        add("cpu.weight", self.cpu_weight);
        add("pids.max", self.pids);
        add("cpuset.cpus", self.cpuset);
        add("io.weight", self.io_weight);
        limits.extend(self.set);
        CgroupOptions {
            limits,
            parent: self.parent,
            name: self.name,
            join: self.join,
            keep: self.keep,
            stats: match self.stats.as_deref() {
                Some("json") => Some(StatsFormat::Json),
                Some(_) => Some(StatsFormat::Text),
                None => self.stats_file.as_ref().map(|_| StatsFormat::Text),
            },
            stats_file: self.stats_file,
            devices: match (self.devices.as_deref(), self.device_allow.is_empty()) {
                (None, true) => None,
                (Some("container"), _) => Some(
                    rsns_core::cgroup::devices::container()
                        .into_iter()
                        .chain(self.device_allow)
                        .collect(),
                ),
                _ => Some(self.device_allow),
            },
            command: self.command,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CgroupOptions, clap::Error> {
        let mut all = vec!["rs-cgroup"];
        all.extend(args);
        Ok(Cli::try_parse_from(all)?.into_options())
    }

    #[test]
    fn options_become_interface_files() {
        let o = parse(&[
            "--memory=256M",
            "--pids=64",
            "--cpus=0.5",
            "--set=memory.oom.group=1",
            "--",
            "sh",
            "-c",
            "x",
        ])
        .unwrap();
        let files: Vec<String> = o.limits.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            files,
            [
                "memory.max=268435456",
                "cpu.max=50000 100000",
                "pids.max=64",
                "memory.oom.group=1"
            ]
        );
        assert_eq!(o.command, ["sh", "-c", "x"]);
        assert_eq!(
            parse(&["--stats", "true"]).unwrap().stats,
            Some(StatsFormat::Text)
        );
        assert_eq!(
            parse(&["--stats=json", "true"]).unwrap().stats,
            Some(StatsFormat::Json)
        );
    }

    #[test]
    fn bad_values_and_conflicts_are_usage_errors() {
        for args in [
            &["--memory=12XB", "true"][..],
            &["--pids=-3", "true"][..],
            &["--cpus=0", "true"][..],
            &["--set=nodot", "true"][..],
            &["--join=/x", "--keep", "true"][..],
            &[][..],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
