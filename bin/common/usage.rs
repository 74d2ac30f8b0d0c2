//! How every rs-* tool ends on a bad command line.

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

/// Parses `args` into the tool's command line (and its matches, for options
/// whose order counts), or ends the way [`usage_exit`] says.
pub fn parse<C: CommandFactory + FromArgMatches>(
    tool: &str,
    args: impl IntoIterator<Item = OsString>,
) -> (C, ArgMatches) {
    let matches = C::command()
        .try_get_matches_from(args)
        .unwrap_or_else(|e| usage_exit(tool, e));
    let cli = C::from_arg_matches(&matches).unwrap_or_else(|e| usage_exit(tool, e));
    (cli, matches)
}

/// Help and version go to stdout with status 0. A bad command line is one
/// line on stderr with status 1, as util-linux exits.
pub fn usage_exit(tool: &str, err: clap::Error) -> ! {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = err.print();
        std::process::exit(0);
    }
    let rendered = err.to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // "the following required arguments were not provided:" lists them on
    // the lines below; keep them on our one line.
    if message.ends_with(':') {
        let listed: Vec<&str> = rendered
            .lines()
            .skip(1)
            .map(str::trim)
            .take_while(|l| !l.is_empty())
            .collect();
        message = format!("{message} {}", listed.join(", "));
    }
    eprintln!("{tool}: {message}; try '{tool} --help'");
    std::process::exit(1);
}
