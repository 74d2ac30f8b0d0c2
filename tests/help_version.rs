//! `--help` and `--version` on every tool: on stdout, exit status 0, nothing
//! on stderr; the help names the tool's own options and shows at least one
//! example command line of that tool.

mod common;

use common::*;

#[test]
fn every_tool_has_help_with_an_example_and_a_version() {
    for (tool, path, option) in [
        ("rs-unshare", UNSHARE, "--map-users"),
        ("rs-nsenter", NSENTER, "--preserve-credentials"),
        ("rs-lsns", LSNS, "--filter"),
        ("rs-pivot", PIVOT, "--keep-old"),
        ("rs-cgroup", CGROUP, "--memory"),
        ("rs-setpriv", SETPRIV, "--bounding-set"),
    ] {
        for flag in ["--help", "-h"] {
            let help = cmd(path, &[flag]);
            assert_eq!(help.stderr(), "", "{tool} {flag}");
            let text = help.ok();
            assert!(text.contains(option), "{tool} {flag}: {text}");
            let examples = text
                .split_once("Examples:\n")
                .unwrap_or_else(|| panic!("{tool} {flag}: no examples"))
                .1;
            assert!(
                examples
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("{tool} "))),
                "{tool} {flag}: no example of {tool}: {examples}"
            );
        }
        let version = cmd(path, &["--version"]);
        assert_eq!(version.stderr(), "");
        assert_eq!(
            version.ok(),
            format!("{tool} {}\n", env!("CARGO_PKG_VERSION")),
            "{tool}"
        );
    }
}

/// Help and version that cannot be written are a failure, as in util-linux.
#[test]
fn help_and_version_into_a_full_disk_fail() {
    for (tool, path) in [
        ("rs-unshare", UNSHARE),
        ("rs-nsenter", NSENTER),
        ("rs-lsns", LSNS),
        ("rs-pivot", PIVOT),
        ("rs-cgroup", CGROUP),
        ("rs-setpriv", SETPRIV),
    ] {
        for flag in ["--help", "--version"] {
            let mut c = std::process::Command::new(path);
            c.arg(flag).stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            );
            let out = c.output().unwrap();
            let run = Run { output: out };
            run.fails_as(tool, 1, "write error: No space left on device (ENOSPC)");
        }
    }
}
