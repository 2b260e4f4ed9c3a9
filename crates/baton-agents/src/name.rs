//! Agent names as crmsh writes them: `ocf:heartbeat:IPaddr2`, `lsb:httpd`,
//! `systemd:nginx`, `service:nginx`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Ocf,
    Lsb,
    Systemd,
    /// systemd when the host runs it, else LSB.
    Service,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Ocf, Class::Lsb, Class::Systemd, Class::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ocf => "ocf",
            Self::Lsb => "lsb",
            Self::Systemd => "systemd",
            Self::Service => "service",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Class {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, NameError> {
        Self::ALL
            .into_iter()
            .find(|class| class.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| NameError::UnknownClass(text.to_owned()))
    }
}

/// A parsed `class[:provider]:type`. Only OCF agents have a provider.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentName {
    pub class: Class,
    pub provider: Option<String>,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("unknown agent class {0:?}; use ocf, lsb, systemd or service")]
    UnknownClass(String),
    #[error(
        "{0:?} is not an agent name; write it as ocf:PROVIDER:TYPE, lsb:NAME, systemd:UNIT or service:NAME"
    )]
    Malformed(String),
    #[error("{0:?} names a stonith agent; fence agents are run by baton-fenced")]
    Stonith(String),
}

impl AgentName {
    pub fn ocf(provider: &str, kind: &str) -> Self {
        Self {
            class: Class::Ocf,
            provider: Some(provider.to_owned()),
            kind: kind.to_owned(),
        }
    }
}

/// A name part becomes a path component or a D-Bus unit name, so it must not
/// be able to walk out of its directory.
fn is_safe_part(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

impl FromStr for AgentName {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, NameError> {
        let malformed = || NameError::Malformed(text.to_owned());
        let parts: Vec<&str> = text.split(':').collect();
        if parts
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case("stonith"))
        {
            return Err(NameError::Stonith(text.to_owned()));
        }
        if !parts.iter().all(|part| is_safe_part(part)) {
            return Err(malformed());
        }
        match parts.as_slice() {
            [class, provider, kind] => match class.parse()? {
                Class::Ocf => Ok(Self::ocf(provider, kind)),
                _ => Err(malformed()),
            },
            [class, kind] => match class.parse()? {
                Class::Ocf => Err(malformed()),
                class => Ok(Self {
                    class,
                    provider: None,
                    kind: (*kind).to_owned(),
                }),
            },
            _ => Err(malformed()),
        }
    }
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.provider {
            Some(provider) => write!(f, "{}:{provider}:{}", self.class, self.kind),
            None => write!(f, "{}:{}", self.class, self.kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crmsh_spellings_round_trip() {
        for text in [
            "ocf:heartbeat:IPaddr2",
            "lsb:httpd",
            "systemd:nginx",
            "service:nginx",
        ] {
            let name: AgentName = text.parse().expect(text);
            assert_eq!(name.to_string(), text);
        }
        let name: AgentName = "ocf:heartbeat:IPaddr2".parse().expect("ocf");
        assert_eq!(name.provider.as_deref(), Some("heartbeat"));
        assert_eq!(name.kind, "IPaddr2");
        assert_eq!(
            "systemd:nginx.service"
                .parse::<AgentName>()
                .expect("unit")
                .kind,
            "nginx.service"
        );
    }

    #[test]
    fn bad_names_are_refused() {
        for text in [
            "",
            "ocf:Dummy",
            "ocf:heartbeat:",
            "lsb:a:b",
            "nagios:x",
            "ocf:../x:Dummy",
            "ocf:h:..",
            "lsb:a/b",
            "ocf:h:x y",
        ] {
            assert!(text.parse::<AgentName>().is_err(), "{text} was accepted");
        }
        assert!(matches!(
            "stonith:fence_xvm".parse::<AgentName>(),
            Err(NameError::Stonith(_))
        ));
    }
}
