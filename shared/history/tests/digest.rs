//! content_digest: SHA-256 of a stream, the same however it is chunked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Read};

use citydesk_history::content_digest;

const NYC_SAMPLE: &[u8] = include_bytes!("fixtures/nyc311-2022-05-01.csv");
const BOSTON_SAMPLE: &[u8] = include_bytes!("fixtures/boston311-100.csv");

/// Hands out at most `chunk` bytes per read and is interrupted now and then,
/// like a slow network body.
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
    reads: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.reads.is_multiple_of(7) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let count = self.data.len().min(self.chunk).min(buffer.len());
        buffer[..count].copy_from_slice(&self.data[..count]);
        self.data = &self.data[count..];
        Ok(count)
    }
}

#[test]
fn known_sha256_vectors() {
    assert_eq!(
        content_digest(&b""[..]).unwrap(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        content_digest(&b"abc"[..]).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn the_real_samples_are_byte_identical_to_the_published_files() {
    assert_eq!(
        content_digest(NYC_SAMPLE).unwrap(),
        "73b804db3ef5690f5f7beb538bf5ca467cdbf444d1628fc336b5b0abecb6b858"
    );
    assert_eq!(
        content_digest(BOSTON_SAMPLE).unwrap(),
        "5d95255c92a1a992f87ccabe6f821f2444bd6949dabb022b15e4c9d0274ef47a"
    );
}

#[test]
fn chunking_and_interruptions_do_not_change_the_digest() {
    let whole = content_digest(NYC_SAMPLE).unwrap();
    for chunk in [1_000, 65_536, 100_000] {
        let trickle = Trickle {
            data: NYC_SAMPLE,
            chunk,
            reads: 0,
        };
        assert_eq!(content_digest(trickle).unwrap(), whole, "chunk {chunk}");
    }
    let mut changed = NYC_SAMPLE.to_vec();
    changed[NYC_SAMPLE.len() / 2] ^= 1;
    assert_ne!(content_digest(changed.as_slice()).unwrap(), whole);
}

#[test]
fn a_failing_reader_fails_the_digest() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk gone"))
        }
    }
    assert!(content_digest(Broken).is_err());
}
