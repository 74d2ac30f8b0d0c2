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
