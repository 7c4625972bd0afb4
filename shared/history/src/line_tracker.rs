//! [`LineTracker`]: physical line numbers of CSV records, as an editor counts them.

use std::collections::VecDeque;
use std::io::{self, Read};

/// Passes the input through to the CSV parser and keeps the bytes the parser
/// has not finished with, to number lines as an editor does.
///
/// The parser reports where it *began* looking for a record: before the
/// blank lines it skips, and before the `\n` of a `\r\n` ending the
/// previous record. Counting the line breaks from there to the record's
/// first byte gives the line the record really starts on. Only the bytes
/// from the current record on are kept: at most one record and one buffer.
pub(crate) struct LineTracker<R> {
    inner: R,
    pub(crate) kept: VecDeque<u8>,
    /// Offset in the input of `kept[0]`.
    kept_from: u64,
}

impl<R: Read> LineTracker<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineTracker {
            inner,
            kept: VecDeque::new(),
            kept_from: 0,
        }
    }

    /// The line of the first byte at or after `byte` that is not a line
    /// break, given that `byte` is on `line`.
    pub(crate) fn line_of_content_at(&self, byte: u64, line: u64) -> u64 {
        let Some(skip) = byte
            .checked_sub(self.kept_from)
            .and_then(|offset| usize::try_from(offset).ok())
        else {
            return line;
        };
        let line_feeds = self
            .kept
            .iter()
            .skip(skip)
            .take_while(|&&byte| byte == b'\n' || byte == b'\r')
            .filter(|&&byte| byte == b'\n')
            .count();
        line + u64::try_from(line_feeds).unwrap_or(0)
    }

    /// Drops the kept bytes before offset `byte`.
    pub(crate) fn forget_before(&mut self, byte: u64) {
        let done = byte.saturating_sub(self.kept_from);
        let drop = usize::try_from(done).map_or(self.kept.len(), |done| done.min(self.kept.len()));
        self.kept.drain(..drop);
        self.kept_from += u64::try_from(drop).unwrap_or(0);
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.kept.extend(buffer.iter().take(read));
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_line_tracker_counts_line_feeds_before_the_content() {
        let mut tracker = LineTracker::new(&b"a\r\n\r\n\nb\nc"[..]);
        let mut sink = Vec::new();
        tracker.read_to_end(&mut sink).unwrap();
        assert_eq!(tracker.line_of_content_at(1, 1), 4);
        assert_eq!(tracker.line_of_content_at(0, 1), 1);
        tracker.forget_before(6);
        assert_eq!(tracker.kept, b"b\nc".to_vec());
        assert_eq!(tracker.line_of_content_at(7, 4), 5);
        // Bytes already forgotten are not guessed at.
        assert_eq!(tracker.line_of_content_at(2, 2), 2);
    }
}
