//! rs-cgroup: run a program in a new cgroup v2 group with limits. Parses the
//! command line, hands it to the core and ends the way the program ended.

// std's runtime start-up is skipped (see rsns_core::tool_main): the program
// inherits our signal dispositions untouched.
#![cfg_attr(not(test), no_main)]

mod cli;
#[path = "../common/usage.rs"]
mod usage;

rsns_core::tool_main!(run);

#[cfg_attr(test, allow(dead_code))]
fn run() -> ! {
    let (cli, _) = usage::parse::<cli::Cli>("rs-cgroup", std::env::args_os());
    rsns_core::logging::init(cli.verbose);
    match rsns_core::cgroup::run::run(cli.into_options()) {
        Ok(outcome) => outcome.exit(),
        Err(err) => {
            usage::report("rs-cgroup", &err);
            std::process::exit(err.exit_status());
        }
    }
}
