//! A seccomp profile as docker and podman users write it (containers-common's
//! seccomp.json: `names`, `includes`, `excludes`), as OCI's `linux.seccomp`
//! spells it, or a whole OCI config.json holding one. Read strictly: an
//! unknown key or value is an error naming its line and key, since a typo in
//! a profile silently opens or closes a system call.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    pub default_action: Action,
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    /// containers-common's note of the default errno's name; the number
    /// (`defaultErrnoRet`) is what counts.
    #[serde(default)]
    pub default_errno: Option<String>,
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default)]
    pub arch_map: Vec<ArchMap>,
    #[serde(default)]
    pub flags: Vec<Flag>,
    /// Only for SCMP_ACT_NOTIFY, which is refused; accepted when empty.
    #[serde(default)]
    pub listener_path: Option<String>,
    #[serde(default)]
    pub listener_metadata: Option<String>,
    #[serde(default)]
    pub syscalls: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArchMap {
    pub architecture: String,
    #[serde(default)]
    pub sub_architectures: Vec<String>,
}

/// One rule: these names get this action when every argument test holds
/// and the box qualifies (`includes`, `excludes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Entry {
    #[serde(default)]
    pub names: Vec<String>,
    /// docker's older single-name form.
    #[serde(default)]
    pub name: Option<String>,
    pub action: Action,
    #[serde(default)]
    pub errno_ret: Option<u32>,
    /// containers-common's note of the errno's name.
    #[serde(default)]
    pub errno: Option<String>,
    #[serde(default, deserialize_with = "null_is_empty")]
    pub args: Vec<Arg>,
    #[serde(default)]
    pub includes: Filter,
    #[serde(default)]
    pub excludes: Filter,
    #[serde(default)]
    pub comment: Option<String>,
}

impl Entry {
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().chain(&self.name).map(String::as_str)
    }
}

/// When an entry applies: the box holds every capability in `caps`, runs
/// on one of `arches` (Go's names: amd64, arm64), on `minKernel` or newer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Filter {
    #[serde(default)]
    pub caps: Vec<String>,
    #[serde(default)]
    pub arches: Vec<String>,
    #[serde(default)]
    pub min_kernel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Arg {
    pub index: u8,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: Op,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Action {
    #[serde(rename = "SCMP_ACT_ALLOW")]
    Allow,
    #[serde(rename = "SCMP_ACT_ERRNO")]
    Errno,
    #[serde(rename = "SCMP_ACT_KILL", alias = "SCMP_ACT_KILL_THREAD")]
    KillThread,
    #[serde(rename = "SCMP_ACT_KILL_PROCESS")]
    KillProcess,
    #[serde(rename = "SCMP_ACT_TRAP")]
    Trap,
    #[serde(rename = "SCMP_ACT_TRACE")]
    Trace,
    #[serde(rename = "SCMP_ACT_LOG")]
    Log,
    /// Needs a seccomp agent at `listenerPath`; read, then refused.
    #[serde(rename = "SCMP_ACT_NOTIFY")]
    Notify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Op {
    #[serde(rename = "SCMP_CMP_NE")]
    Ne,
    #[serde(rename = "SCMP_CMP_LT")]
    Lt,
    #[serde(rename = "SCMP_CMP_LE")]
    Le,
    #[serde(rename = "SCMP_CMP_EQ")]
    Eq,
    #[serde(rename = "SCMP_CMP_GE")]
    Ge,
    #[serde(rename = "SCMP_CMP_GT")]
    Gt,
    /// `(arg & value) == valueTwo`.
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEq,
}

/// seccomp(2)'s filter flags a profile may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Flag {
    #[serde(rename = "SECCOMP_FILTER_FLAG_TSYNC")]
    Tsync,
    #[serde(rename = "SECCOMP_FILTER_FLAG_LOG")]
    Log,
    #[serde(rename = "SECCOMP_FILTER_FLAG_SPEC_ALLOW")]
    SpecAllow,
}

impl Flag {
    pub fn bits(self) -> u32 {
        match self {
            Flag::Tsync => 1,
            Flag::Log => 1 << 1,
            Flag::SpecAllow => 1 << 2,
        }
    }
}

fn null_is_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Arg>, D::Error> {
    Ok(Option::<Vec<Arg>>::deserialize(d)?.unwrap_or_default())
}

/// A whole OCI config.json: its `linux.seccomp`, the rest unread.
#[derive(Deserialize)]
struct OciConfig {
    linux: OciLinux,
}

#[derive(Deserialize)]
struct OciLinux {
    seccomp: Profile,
}

/// Reads a profile; the error names the line, the column and the key
/// (`syscalls[3].action`) with what was wrong there.
pub fn parse(text: &str) -> Result<Profile, String> {
    let oci = serde_json::from_str::<serde_json::Value>(text)
        .map(|v| v.get("linux").is_some())
        .map_err(|e| format!("line {}, column {}: {}", e.line(), e.column(), bare(&e)))?;
    let de = &mut serde_json::Deserializer::from_str(text);
    let result = if oci {
        serde_path_to_error::deserialize::<_, OciConfig>(de).map(|c| c.linux.seccomp)
    } else {
        serde_path_to_error::deserialize::<_, Profile>(de)
    };
    let profile = result.map_err(|e| {
        let inner = e.inner();
        format!("line {}, key {}: {}", inner.line(), e.path(), bare(inner))
    })?;
    check(&profile)?;
    Ok(profile)
}

/// serde_json's message without its own " at line L column C".
fn bare(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// What reads well but cannot be built: notify without an agent, an
/// argument index past 5, an entry with no name.
fn check(profile: &Profile) -> Result<(), String> {
    if profile.default_action == Action::Notify {
        return Err(
            "defaultAction: SCMP_ACT_NOTIFY needs a seccomp agent, which this tool does not run"
                .into(),
        );
    }
    for (i, entry) in profile.syscalls.iter().enumerate() {
        if entry.action == Action::Notify {
            return Err(format!(
                "syscalls[{i}].action: SCMP_ACT_NOTIFY needs a seccomp agent, which this tool does not run"
            ));
        }
        if entry.all_names().next().is_none() {
            return Err(format!("syscalls[{i}]: no names"));
        }
        if let Some(arg) = entry.args.iter().find(|a| a.index > 5) {
            return Err(format!(
                "syscalls[{i}].args: index {} (a system call has arguments 0 to 5)",
                arg.index
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_oci_and_config_json_forms_read() {
        let docker = r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,
            "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
            "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[],"comment":"",
              "includes":{"caps":["CAP_SYS_ADMIN"],"minKernel":"4.8"},"excludes":{}},
              {"name":"write","action":"SCMP_ACT_ALLOW","args":null}]}"#;
        let p = parse(docker).unwrap();
        assert_eq!(p.default_errno_ret, Some(38));
        assert_eq!(p.syscalls[0].includes.caps, ["CAP_SYS_ADMIN"]);
        assert_eq!(p.syscalls[1].all_names().collect::<Vec<_>>(), ["write"]);
        let oci = r#"{"ociVersion":"1.0.2","process":{},"linux":{"namespaces":[],
            "seccomp":{"defaultAction":"SCMP_ACT_KILL_PROCESS","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW",
              "args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}}}"#;
        let p = parse(oci).unwrap();
        assert_eq!(p.default_action, Action::KillProcess);
        assert_eq!(p.syscalls[0].args[0].op, Op::MaskedEq);
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        let bad = "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [\n  {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALOW\"}\n ]\n}";
        let e = parse(bad).unwrap_err();
        assert!(
            e.starts_with("line 3, key syscalls[0].action: unknown variant `SCMP_ACT_ALOW`"),
            "{e}"
        );
        let typo = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"sycalls\": []}";
        let e = parse(typo).unwrap_err();
        assert!(e.contains("unknown field `sycalls`"), "{e}");
        let broken = "{\"defaultAction\":\n \"SCMP_ACT_ERRNO\",,}";
        assert!(parse(broken).unwrap_err().starts_with("line 2, column "));
        let notify = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}"#;
        assert!(parse(notify).unwrap_err().contains("seccomp agent"));
        let index = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#;
        assert!(parse(index).unwrap_err().contains("index 6"));
    }
}
