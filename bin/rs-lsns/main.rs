//! rs-lsns: list namespaces. Parses the command line, hands the options to
//! the core and prints what it returns.

#![cfg_attr(not(test), no_main)]

mod cli;
#[path = "../common/usage.rs"]
mod usage;

use std::io::Write;
use std::os::fd::AsFd;

use rsns_core::lsns::options::Format;

rsns_core::tool_main!(run);

#[cfg_attr(test, allow(dead_code))]
fn run() -> ! {
    let args = cli::expand_tree(std::env::args_os().collect());
    let (cli, _) = usage::parse::<cli::Cli>("rs-lsns", args);
    rsns_core::logging::init(cli.verbose);
    let list_columns = cli.list_columns;
    let options = cli.into_options();
    let text = if list_columns {
        Ok(rsns_core::lsns::list_columns(options.format))
    } else {
        let stdout = std::io::stdout();
        let width = match options.format {
            Format::Table => rsns_core::sys::terminal_width(stdout.as_fd()),
            _ => None,
        };
        rsns_core::lsns::run(&options, width)
    };
    match text {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                usage::report(
                    "rs-lsns",
                    &format_args!(
                        "write error: {}",
                        rsns_core::error::errno_text(rsns_core::error::io_errno(&e))
                    ),
                );
                std::process::exit(1);
            }
            std::process::exit(0);
        }
        Err(err) => {
            usage::report("rs-lsns", &err);
            std::process::exit(1);
        }
    }
}
