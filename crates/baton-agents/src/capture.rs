//! A bounded tail of an agent's output. An agent may print megabytes; we
//! keep reading (so it never blocks on a full pipe) but keep only the end,
//! where exit reasons and errors are.

/// Bytes kept per stream (STYLE rule 10).
pub const TAIL_BYTES_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail {
    bytes: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Tail {
    pub fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
            truncated: false,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        // Trim only when twice the limit is reached, so a flood costs one
        // copy per `limit` bytes rather than one per chunk.
        if self.bytes.len() > self.limit.saturating_mul(2) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.bytes.len() > self.limit {
            let excess = self.bytes.len() - self.limit;
            self.bytes.drain(..excess);
            self.truncated = true;
        }
    }

    /// The last `limit` bytes as text, and whether anything was dropped.
    pub fn finish(mut self) -> (String, bool) {
        self.trim();
        (
            String::from_utf8_lossy(&self.bytes).into_owned(),
            self.truncated,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_bytes() {
        let mut tail = Tail::new(4);
        for chunk in [b"abc".as_slice(), b"defgh", b"ij"] {
            tail.push(chunk);
            assert!(tail.bytes.len() <= 8);
        }
        assert_eq!(tail.finish(), ("ghij".to_owned(), true));
        let mut short = Tail::new(4);
        short.push(b"ab");
        assert_eq!(short.finish(), ("ab".to_owned(), false));
    }
}
