//! Man pages (clap_mangen) and bash, zsh and fish completions
//! (clap_complete) for every tool, generated from the very clap
//! definitions the binaries parse with: their cli.rs files are compiled in
//! here as they are, so the pages cannot drift from the options.

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

#[allow(dead_code)]
#[path = "../../../bin/rs-unshare/cli.rs"]
mod unshare_cli;

#[allow(dead_code)]
#[path = "../../../bin/rs-nsenter/cli.rs"]
mod nsenter_cli;

#[allow(dead_code)]
#[path = "../../../bin/rs-lsns/cli.rs"]
mod lsns_cli;

#[allow(dead_code)]
#[path = "../../../bin/rs-pivot/cli.rs"]
mod pivot_cli;

#[allow(dead_code)]
#[path = "../../../bin/rs-cgroup/cli.rs"]
mod cgroup_cli;

#[allow(dead_code)]
#[path = "../../../bin/rs-setpriv/cli.rs"]
mod setpriv_cli;

/// A tool's command model and its manual section, as util-linux files them
/// (unshare and nsenter in 1, lsns and pivot_root in 8).
pub fn tools() -> Vec<(clap::Command, &'static str)> {
    vec![
        (unshare_cli::Cli::command(), "1"),
        (nsenter_cli::Cli::command(), "1"),
        (lsns_cli::Cli::command(), "8"),
        (pivot_cli::Cli::command(), "8"),
        (cgroup_cli::Cli::command(), "1"),
        (setpriv_cli::Cli::command(), "1"),
    ]
}

/// Writes `NAME.SECTION` for every tool into `dir`; returns the paths.
pub fn write_man_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (command, section) in tools() {
        let name = command.get_name().to_string();
        let path = dir.join(format!("{name}.{section}"));
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .section(section)
            .source(format!("rsns {}", env!("CARGO_PKG_VERSION")))
            .manual("rsns")
            .render(&mut page)?;
        std::fs::write(&path, page)?;
        written.push(path);
    }
    Ok(written)
}

/// Where each shell looks for completions, under `dir`, and the file name.
fn completion_path(dir: &Path, shell: Shell, name: &str) -> PathBuf {
    match shell {
        Shell::Bash => dir.join("bash").join(name),
        Shell::Zsh => dir.join("zsh").join(format!("_{name}")),
        Shell::Fish => dir.join("fish").join(format!("{name}.fish")),
        other => dir.join(other.to_string()).join(name),
    }
}

/// The values an option takes, where they are a known set: completions
/// offer them instead of file names. Keyed by the long option name; an
/// option a tool does not have is skipped. Free-form spellings (a signal
/// number, a range `0:100000:65536`) still parse; these are the names.
fn value_candidates() -> Vec<(&'static str, Vec<&'static str>)> {
    use rsns_core::lsns::columns::Column;
    use rsns_core::ns::NsKind;
    let signals = nix::sys::signal::Signal::iterator()
        .map(|s| s.as_str().trim_start_matches("SIG"))
        .collect();
    let words = |w: &[&'static str]| w.to_vec();
    vec![
        ("type", NsKind::ALL.iter().map(|k| k.proc_name()).collect()),
        ("output", Column::ALL.iter().map(|c| c.name()).collect()),
        ("tree", words(&["owner", "parent", "process"])),
        ("kill-child", signals),
        (
            "propagation",
            words(&["private", "shared", "slave", "unchanged"]),
        ),
        ("setgroups", words(&["allow", "deny"])),
        ("map-users", words(&["auto", "subids", "all"])),
        ("map-groups", words(&["auto", "subids", "all"])),
        ("setuid", words(&["follow"])),
        ("setgid", words(&["follow"])),
    ]
}

/// `command` with the known value sets of [`value_candidates`] attached as
/// possible values (for the completion scripts only; parsing is unchanged).
pub fn with_value_candidates(mut command: clap::Command) -> clap::Command {
    for (long, values) in value_candidates() {
        let id = command
            .get_arguments()
            .find(|a| a.get_long() == Some(long))
            .map(|a| a.get_id().clone());
        if let Some(id) = id {
            command = command.mut_arg(id, |arg| {
                arg.value_parser(clap::builder::PossibleValuesParser::new(values))
            });
        }
    }
    command
}

/// Writes bash, zsh and fish completions for every tool into `dir/bash`,
/// `dir/zsh` and `dir/fish`; returns the paths.
pub fn write_completions(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        for (command, _) in tools() {
            let mut command = with_value_candidates(command);
            let name = command.get_name().to_string();
            let path = completion_path(dir, shell, &name);
            std::fs::create_dir_all(path.parent().expect("a directory"))?;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, &name, &mut script);
            std::fs::write(&path, script)?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rsns-docgen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_man_page_for_each_tool_with_its_options() {
        let dir = scratch("man");
        let pages = write_man_pages(&dir).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "rs-unshare.1",
                "rs-nsenter.1",
                "rs-lsns.8",
                "rs-pivot.8",
                "rs-cgroup.1",
                "rs-setpriv.1"
            ]
        );
        for (page, option) in pages.iter().zip([
            "mount\\-proc",
            "preserve\\-credentials",
            "filter",
            "keep\\-old",
            "stats",
            "bounding\\-set",
        ]) {
            let text = std::fs::read_to_string(page).unwrap();
            assert!(text.starts_with(".ie"), "not roff: {}", page.display());
            assert!(text.contains(".SH NAME"), "{}", page.display());
            assert!(text.contains(".SH SYNOPSIS"), "{}", page.display());
            assert!(text.contains(option), "{} lacks {option}", page.display());
            assert!(
                text.contains("Examples:"),
                "{} lacks the examples",
                page.display()
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn completions_for_bash_zsh_and_fish() {
        let dir = scratch("completions");
        let files = write_completions(&dir).unwrap();
        assert_eq!(files.len(), 18);
        for tool in [
            "rs-unshare",
            "rs-nsenter",
            "rs-lsns",
            "rs-pivot",
            "rs-cgroup",
            "rs-setpriv",
        ] {
            let bash = std::fs::read_to_string(dir.join("bash").join(tool)).unwrap();
            let function = format!("_{}", tool.replace('-', "__"));
            assert!(bash.contains(&format!("complete -F {function} ")), "{bash}");
            let zsh = std::fs::read_to_string(dir.join("zsh").join(format!("_{tool}"))).unwrap();
            assert!(zsh.starts_with(&format!("#compdef {tool}")), "{zsh}");
            let fish =
                std::fs::read_to_string(dir.join("fish").join(format!("{tool}.fish"))).unwrap();
            assert!(fish.contains(&format!("complete -c {tool}")), "{fish}");
        }
        // bash itself completes `rs-unshare --mount-p` with the script.
        let script = format!(
            "source {}; COMP_WORDS=(rs-unshare --mount-p); COMP_CWORD=1; \
             _rs__unshare rs-unshare --mount-p rs-unshare; echo \"${{COMPREPLY[@]}}\"",
            dir.join("bash/rs-unshare").display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .expect("bash runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "--mount-proc\n");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// What bash offers for the value after `WORDS...` (the last one is the
    /// word being completed).
    fn bash_values(dir: &Path, tool: &str, words: &[&str]) -> String {
        let function = format!("_{}", tool.replace('-', "__"));
        let all: Vec<String> = std::iter::once(tool.to_string())
            .chain(words.iter().map(|w| format!("'{w}'")))
            .collect();
        let script = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; {function} {tool} '{}' '{}'; \
             echo \"${{COMPREPLY[@]}}\"",
            dir.join("bash").join(tool).display(),
            all.join(" "),
            words.len(),
            words.last().unwrap(),
            if words.len() > 1 {
                words[words.len() - 2]
            } else {
                tool
            },
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .expect("bash runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn completions_offer_the_values_an_option_takes() {
        let dir = scratch("values");
        write_completions(&dir).unwrap();
        assert_eq!(
            bash_values(&dir, "rs-lsns", &["-t", ""]),
            "user mnt uts ipc net pid cgroup time"
        );
        assert_eq!(bash_values(&dir, "rs-lsns", &["-o", "NS"]), "NS NSFS");
        assert_eq!(
            bash_values(&dir, "rs-lsns", &["--tree", "p"]),
            "parent process"
        );
        assert_eq!(
            bash_values(&dir, "rs-unshare", &["--propagation", "s"]),
            "shared slave"
        );
        assert!(
            bash_values(&dir, "rs-unshare", &["--kill-child", "T"]).contains("TERM"),
            "signals for --kill-child"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
