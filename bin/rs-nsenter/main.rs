//! rs-nsenter: run a program in the namespaces of a running process or of
//! namespace files. Parses the command line, hands the options to the core
//! and ends the way the program ended.

// std's runtime start-up is skipped (see rsns_core::tool_main): the program
// we exec inherits our signal dispositions untouched.
#![cfg_attr(not(test), no_main)]

mod cli;
#[path = "../common/usage.rs"]
mod usage;

rsns_core::tool_main!(run);

#[cfg_attr(test, allow(dead_code))]
fn run() -> ! {
    let args = cli::expand_attached(std::env::args_os().collect());
    let (cli, _) = usage::parse::<cli::Cli>("rs-nsenter", args);
    rsns_core::logging::init(cli.verbose);
    match rsns_core::nsenter::run(cli.into_options()) {
        Ok(outcome) => outcome.exit(),
        Err(err) => {
            usage::report("rs-nsenter", &err);
            std::process::exit(err.exit_status());
        }
    }
}
