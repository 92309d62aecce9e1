//! Standard base64 decoding (RFC 4648, padded), for Secret and ConfigMap
//! data. Small enough not to need a crate.

/// Decodes padded standard base64; `None` when the text is not base64.
/// Whitespace is not allowed, as in Kubernetes' JSON decoding.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.chunks_exact(4);
    let last = chunks.len().checked_sub(1);
    for (index, chunk) in chunks.enumerate() {
        let padding = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && Some(index) != last) {
            return None;
        }
        let mut word: u32 = 0;
        for &b in &chunk[..4 - padding] {
            word = (word << 6) | u32::from(sextet(b)?);
        }
        word <<= 6 * padding;
        let [_, a, b, c] = word.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..3 - padding]);
    }
    Some(out)
}

fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn base64_decodes_padded_text() {
        assert_eq!(decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode("aGk=").unwrap(), b"hi");
        assert_eq!(decode("aGV5").unwrap(), b"hey");
        assert_eq!(decode("").unwrap(), b"");
    }

    #[test]
    fn base64_rejects_bad_text() {
        assert!(decode("aGVsbG8").is_none());
        assert!(decode("aG=sbG8=").is_none());
        assert!(decode("a===").is_none());
        assert!(decode("aGVs bG8=").is_none());
    }
}
