//! Diagnostics on demand: `-v` (debug), `-vv` (trace) or `RUST_LOG`
//! (`debug`, `rsns_core=trace`, ...). Off by default; always on stderr, since
//! stdout carries data. The subscriber writes synchronously: no thread.

use tracing_subscriber::filter::{LevelFilter, Targets};

/// Installs a stderr subscriber if `verbose` > 0 or RUST_LOG is set.
pub fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok());
    let filter = match (verbose, from_env) {
        (0, None) => return,
        (0, Some(targets)) => targets,
        (1, _) => Targets::new().with_default(LevelFilter::DEBUG),
        _ => Targets::new().with_default(LevelFilter::TRACE),
    };
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .without_time()
            .with_filter(filter),
    );
    let _ = tracing::subscriber::set_global_default(subscriber);
}
