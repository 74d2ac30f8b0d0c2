//! rs-unshare: run a program in new namespaces. Parses the command line, hands
//! the options to the core and ends the way the program ended.

// std's runtime start-up is skipped (see rsns_core::tool_main): the program
// we exec inherits our signal dispositions untouched.
#![cfg_attr(not(test), no_main)]

mod cli;
#[path = "../common/usage.rs"]
mod usage;

rsns_core::tool_main!(run);

#[cfg_attr(test, allow(dead_code))]
fn run() -> ! {
    let (cli, matches) = usage::parse::<cli::Cli>("rs-unshare", std::env::args_os());
    rsns_core::logging::init(cli.verbose);
    let options = cli.into_options(&matches);
    match rsns_core::unshare::run(options) {
        Ok(outcome) => outcome.exit(),
        Err(err) => {
            usage::report("rs-unshare", &err);
            std::process::exit(err.exit_status());
        }
    }
}
