//! SHA-256 content addresses (`sha256:<64 hex>`) and the readers that
//! compute them while data streams past.

use std::fmt;
use std::io::{self, Read};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// A `sha256:` content address. Only SHA-256 is accepted: it is the one
/// algorithm OCI requires and every registry serves.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidReference {
            reference: s.to_string(),
            reason,
        };
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| invalid("digest must start with sha256:"))?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid("a sha256 digest is 64 lowercase hex digits"));
        }
        Ok(Self {
            hex: hex.to_string(),
        })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    fn from_hasher(h: Sha256) -> Self {
        let out = h.finalize();
        let mut hex = String::with_capacity(64);
        for b in &out {
            use fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
        }
        Self { hex }
    }

    /// The 64 hex digits, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex digits, as `docker images` shows IDs.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }

    /// Fails with [`Error::DigestMismatch`] unless `self` is `expected`.
    pub(crate) fn verify(&self, expected: &Digest, object: impl fmt::Display) -> Result<()> {
        if self == expected {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                object: object.to_string(),
                expected: expected.to_string(),
                actual: self.to_string(),
            })
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A reader that hashes and counts what passes through it, and refuses to
/// go past a byte budget (a decompression bomb stops there).
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    limit: u64,
    eof: bool,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`; reading more than `limit` bytes fails.
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
            limit,
            eof: false,
        }
    }

    /// Whether a read has returned end of file.
    pub(crate) fn hit_eof(&self) -> bool {
        self.eof
    }

    /// Whether the budget was exceeded.
    pub(crate) fn over_budget(&self) -> bool {
        self.count > self.limit
    }

    /// Reads the rest to the end, then returns the digest and the count.
    pub(crate) fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Digest::from_hasher(self.hasher), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.count > self.limit {
            return Err(io::Error::other("size budget exceeded"));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.eof = true;
        }
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        if self.count > self.limit {
            return Err(io::Error::other("size budget exceeded"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_is_the_well_known_one() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn digest_parse_refuses_other_algorithms_and_bad_hex() {
        assert!(Digest::parse("sha512:00").is_err());
        assert!(Digest::parse("sha256:XYZ").is_err());
        assert!(Digest::parse(&format!("sha256:{}", "a".repeat(64))).is_ok());
    }

    #[test]
    fn hashing_reader_stops_at_budget() {
        let data = [0u8; 100];
        let mut r = HashingReader::new(&data[..], 50);
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
        assert!(r.over_budget());
    }
}
