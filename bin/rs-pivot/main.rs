//! rs-pivot: pivot_root(2), or with --root the whole change of root a
//! container needs. Parses the command line and hands it to the core.

// std's runtime start-up is skipped (see rsns_core::tool_main): the command
// we exec inherits our signal dispositions untouched.
#![cfg_attr(not(test), no_main)]

mod cli;
#[path = "../common/usage.rs"]
mod usage;

rsns_core::tool_main!(run);

#[cfg_attr(test, allow(dead_code))]
fn run() -> ! {
    let (cli, matches) = usage::parse::<cli::Cli>("rs-pivot", std::env::args_os());
    rsns_core::logging::init(cli.verbose);
    let options = cli
        .into_options(&matches)
        .unwrap_or_else(|e| usage::usage_exit("rs-pivot", e));
    match rsns_core::pivot::run(options) {
        Ok(()) => std::process::exit(0),
        Err(err) => {
            usage::report("rs-pivot", &err);
            std::process::exit(err.exit_status());
        }
    }
}
