//! CIB versions and configuration digests.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::xml::{Document, ElementId, Style};

/// `(admin_epoch, epoch, num_updates)`, compared lexicographically: the
/// field order of the struct is the comparison order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version {
    pub admin_epoch: u64,
    pub epoch: u64,
    pub num_updates: u64,
}

impl Version {
    /// After a configuration change.
    pub fn bump_config(self) -> Version {
        Version {
            epoch: self.epoch.saturating_add(1),
            num_updates: 0,
            ..self
        }
    }

    /// After a status-only change.
    pub fn bump_status(self) -> Version {
        Version {
            num_updates: self.num_updates.saturating_add(1),
            ..self
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.admin_epoch, self.epoch, self.num_updates
        )
    }
}

/// Lower-case hex SHA-256 of `id`'s subtree in [`Style::Canonical`] form.
pub fn subtree_digest(doc: &Document, id: ElementId) -> String {
    sha256_hex(doc.element_to_xml(id, Style::Canonical).as_bytes())
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_is_lexicographic() {
        let v = |a, e, n| Version {
            admin_epoch: a,
            epoch: e,
            num_updates: n,
        };
        assert!(v(1, 0, 0) > v(0, 99, 99));
        assert!(v(0, 2, 0) > v(0, 1, 99));
        assert!(v(0, 1, 2) > v(0, 1, 1));
        assert_eq!(v(0, 5, 7).bump_config(), v(0, 6, 0));
        assert_eq!(v(0, 5, 7).bump_status(), v(0, 5, 8));
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
