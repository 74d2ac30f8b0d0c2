//! Securebits as setpriv(1) names them: `+noroot,-no_setuid_fixup`, `-all`.

pub const NOROOT: i32 = 1 << 0;
pub const NOROOT_LOCKED: i32 = 1 << 1;
pub const NO_SETUID_FIXUP: i32 = 1 << 2;
pub const NO_SETUID_FIXUP_LOCKED: i32 = 1 << 3;
pub const KEEP_CAPS: i32 = 1 << 4;
pub const KEEP_CAPS_LOCKED: i32 = 1 << 5;

const NAMED: [(i32, &str); 5] = [
    (NOROOT, "noroot"),
    (NOROOT_LOCKED, "noroot_locked"),
    (NO_SETUID_FIXUP, "no_setuid_fixup"),
    (NO_SETUID_FIXUP_LOCKED, "no_setuid_fixup_locked"),
    (KEEP_CAPS_LOCKED, "keep_caps_locked"),
];

/// The bits as `-d` shows them (keep_caps is not shown: setpriv sets it
/// itself, and exec clears it).
pub fn show(bits: i32) -> String {
    let mut rest = bits & !KEEP_CAPS;
    let mut names = Vec::new();
    for (bit, name) in NAMED {
        if rest & bit != 0 {
            names.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(format!("0x{rest:x}"));
    }
    if names.is_empty() {
        "[none]".into()
    } else {
        names.join(",")
    }
}

/// `current` with the changes of `text` applied, plus keep_caps (needed
/// across the uid change, and cleared by exec), as setpriv computes it.
pub fn apply(current: i32, text: &str) -> Result<i32, String> {
    let known = NOROOT
        | NOROOT_LOCKED
        | NO_SETUID_FIXUP
        | NO_SETUID_FIXUP_LOCKED
        | KEEP_CAPS
        | KEEP_CAPS_LOCKED;
    if current & !known != 0 {
        return Err(format!(
            "unrecognized securebit set (0x{current:x}) -- refusing to adjust"
        ));
    }
    let mut bits = current;
    for item in text.split(',') {
        let add = match item.as_bytes().first() {
            Some(b'+') => true,
            Some(b'-') => false,
            _ => {
                return Err(format!(
                    "bad securebits string '{text}': each item starts with + or -"
                ));
            }
        };
        let name = &item[1..];
        if name == "all" {
            if add {
                return Err("+all securebits is not allowed".into());
            }
            bits = 0;
            continue;
        }
        if name == "keep_caps" {
            return Err("adjusting keep_caps does not make sense".into());
        }
        let bit = NAMED
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(b, _)| *b)
            .ok_or_else(|| format!("unrecognized securebit '{name}'"))?;
        if add {
            bits |= bit;
        } else {
            bits &= !bit;
        }
    }
    Ok(bits | KEEP_CAPS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_read_and_print_as_setpriv_does() {
        assert_eq!(show(0), "[none]");
        assert_eq!(show(KEEP_CAPS), "[none]");
        assert_eq!(
            show(NOROOT | NOROOT_LOCKED | 1 << 8),
            "noroot,noroot_locked,0x100"
        );
        assert_eq!(
            apply(0, "+noroot,+noroot_locked"),
            Ok(NOROOT | NOROOT_LOCKED | KEEP_CAPS)
        );
        assert_eq!(apply(NOROOT, "-all"), Ok(KEEP_CAPS));
        assert!(apply(0, "+all").is_err());
        assert!(apply(0, "+keep_caps").is_err());
        assert!(apply(0, "noroot").is_err());
        assert_eq!(
            apply(0, "+bogus").unwrap_err(),
            "unrecognized securebit 'bogus'"
        );
    }
}
