//! Layer and archive compression, told apart by magic bytes: gzip, zstd or
//! none. Both decoders are pure Rust so the binary stays static.

use std::io::{self, Cursor, Read};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Wraps `r` in the decoder its first bytes call for.
pub(crate) fn decoder<'a, R: Read + 'a>(mut r: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole = Cursor::new(head[..n].to_vec()).chain(r);
    if head[..n].starts_with(&GZIP_MAGIC) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(whole)))
    } else if head[..n] == ZSTD_MAGIC {
        let z = ruzstd::decoding::StreamingDecoder::new(whole)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
        Ok(Box::new(z))
    } else {
        Ok(Box::new(whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_plain_are_both_read() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        let gz = gz.finish().unwrap();
        let mut out = String::new();
        decoder(&gz[..]).unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello");
        out.clear();
        decoder(&b"hi"[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hi");
    }
}
