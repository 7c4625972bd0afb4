//! [`content_digest`]: a file's identity, so importing it twice is noticed.

use std::io::{ErrorKind, Read};

use sha2::{Digest, Sha256};

const CHUNK_BYTES: usize = 64 * 1024;

/// The lowercase hex SHA-256 of everything `reader` yields, read in chunks
/// (memory stays flat for files of any size). The importer names the
/// imported object after it, so a re-run of the same file finds its earlier
/// result instead of importing the rows again.
pub fn content_digest(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut chunk = vec![0_u8; CHUNK_BYTES];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => hasher.update(chunk.get(..read).unwrap_or_default()),
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}
