//! rs-setpriv: run a program with other privileges, as setpriv(1) does.
//! Parses the command line, hands the plan to the core, which execs.

// std's runtime start-up is skipped (see rsns_core::tool_main): the program
// we exec inherits our signal dispositions untouched.
#![cfg_attr(not(test), no_main)]

mod cli;
#[path = "../common/usage.rs"]
mod usage;

rsns_core::tool_main!(run);

/// The name messages start with: the one we were run by, as util-linux
/// tools do (installed as `setpriv`, its tests see `setpriv:`).
fn tool_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .map_or_else(|| "rs-setpriv".into(), str::to_string)
}

#[cfg_attr(test, allow(dead_code))]
fn run() -> ! {
    let tool = tool_name();
    let (cli, matches) = usage::parse::<cli::Cli>(&tool, std::env::args_os());
    rsns_core::logging::init(cli.verbose);
    let request = cli.into_request(&matches).unwrap_or_else(|message| {
        usage::report(&tool, &message);
        std::process::exit(1);
    });
    match request {
        cli::Request::Dump(level) => print_and_exit(&tool, &rsns_core::privs::dump(level)),
        cli::Request::ListCaps => print_and_exit(&tool, &rsns_core::privs::list_caps()),
        cli::Request::Run(plan) => match rsns_core::privs::run(*plan) {
            Ok(never) => match never {},
            Err(err) => {
                usage::report(&tool, &err);
                std::process::exit(err.exit_status());
            }
        },
    }
}

fn print_and_exit(tool: &str, text: &str) -> ! {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            usage::report(
                tool,
                &format_args!(
                    "write error: {}",
                    rsns_core::error::errno_text(rsns_core::error::io_errno(&e))
                ),
            );
            std::process::exit(1);
        }
    }
}
