//! Signal names as users type them: `KILL`, `SIGTERM`, `term`, `9`.

use std::str::FromStr;

use nix::sys::signal::Signal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signal '{0}' (use a name like TERM or SIGKILL, or a number from 1 to 31)")]
pub struct UnknownSignal(pub String);

/// Parses a signal by name (case-insensitive, `SIG` prefix optional) or number.
pub fn parse_signal(text: &str) -> Result<Signal, UnknownSignal> {
    let unknown = || UnknownSignal(text.to_string());
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let number: i32 = trimmed.parse().map_err(|_| unknown())?;
        return Signal::try_from(number).map_err(|_| unknown());
    }
    let upper = trimmed.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let canonical = match bare {
        "IOT" => "ABRT",
        "POLL" => "IO",
        "CLD" => "CHLD",
        other => other,
    };
    if canonical.is_empty() {
        return Err(unknown());
    }
    Signal::from_str(&format!("SIG{canonical}")).map_err(|_| unknown())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_aliases() {
        assert_eq!(parse_signal("KILL"), Ok(Signal::SIGKILL));
        assert_eq!(parse_signal("sigterm"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("SIGHUP"), Ok(Signal::SIGHUP));
        assert_eq!(parse_signal("usr1"), Ok(Signal::SIGUSR1));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert_eq!(parse_signal("15"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("IOT"), Ok(Signal::SIGABRT));
        assert_eq!(parse_signal("cld"), Ok(Signal::SIGCHLD));
    }

    #[test]
    fn rejects_garbage_and_names_it() {
        for bad in [
            "",
            "SIG",
            "FOO",
            "SIGFOO",
            "0",
            "32",
            "99999999999",
            "-9",
            "KILL9",
        ] {
            let err = parse_signal(bad).unwrap_err();
            assert_eq!(err.0, bad);
            assert!(err.to_string().contains(&format!("'{bad}'")));
        }
    }
}
