//! How every rs-* tool ends on a bad command line, and how it reports an
//! error: one line on stderr, whatever the values in it hold.

use std::ffi::OsString;
use std::io::Write;

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

/// Prints `{tool}: {message}` as one line on stderr: a value that holds a
/// newline or another control character (a file name, say) shows it as
/// `\xHH` instead of breaking the line.
pub fn report(tool: &str, message: &dyn std::fmt::Display) {
    let text = message.to_string();
    eprintln!("{tool}: {}", rsns_core::text::safe(text.as_bytes()));
}

/// Help and version go to stdout with status 0, or status 1 when they
/// cannot be written (a full disk, a closed pipe), as util-linux does. A bad
/// command line is one line on stderr with status 1.
pub fn usage_exit(tool: &str, err: clap::Error) -> ! {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let text = err.render().to_string();
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            report(
                tool,
                &format_args!(
                    "write error: {}",
                    rsns_core::error::errno_text(rsns_core::error::io_errno(&e))
                ),
            );
            std::process::exit(1);
        }
        std::process::exit(0);
    }
    // clap's text: the message, a blank line, then usage and advice. The
    // message itself spans lines only where a value holds a newline, or
    // where it lists the missing arguments below a ':'.
    let rendered = err.to_string();
    let body = rendered.split("\n\n").next().unwrap_or("invalid arguments");
    let body = body.strip_prefix("error: ").unwrap_or(body);
    let message = match body.split_once(":\n") {
        Some((head, list)) if head.starts_with("the following required arguments") => {
            let listed: Vec<&str> = list.lines().map(str::trim).collect();
            format!("{head}: {}", listed.join(", "))
        }
        _ => body.to_string(),
    };
    report(tool, &format_args!("{message}; try '{tool} --help'"));
    std::process::exit(1);
}
