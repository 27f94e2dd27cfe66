//! A fleet's output: each cluster's stdout and stderr captured while it runs, then printed as
//! one block per stream headed by the cluster's name, so that clusters finishing together
//! never interleave.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::Member;

/// A writer into memory that a cluster's job keeps a handle to after its printer is gone.
#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("a poisoned output buffer"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    /// What was written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

/// `=== NAME ===`, with the region when the fleet's list gave one.
pub fn header(m: &Member) -> String {
    match &m.region {
        Some(region) => format!("=== {} ({region}) ===\n", m.name),
        None => format!("=== {} ===\n", m.name),
    }
}

/// Prints a cluster's captured output to the process's stdout and stderr, each (when not
/// empty) as one block under the cluster's header.
pub fn print_block(m: &Member, out: &[u8], err: &[u8]) {
    let header = header(m);
    for (bytes, mut sink) in [
        (out, Box::new(std::io::stdout().lock()) as Box<dyn Write>),
        (err, Box::new(std::io::stderr().lock())),
    ] {
        if !bytes.is_empty() {
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = sink.write_all(header.as_bytes());
            let _ = sink.write_all(bytes);
            let _ = sink.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_keeps_what_a_boxed_writer_wrote() {
        let b = Buffer::default();
        let mut w: Box<dyn Write> = Box::new(b.clone());
        writeln!(w, "one").unwrap();
        drop(w);
        assert_eq!(b.take(), b"one\n");
        assert!(b.take().is_empty());
    }

    #[test]
    fn the_header_names_the_region_the_list_gave() {
        let mut m = Member::named("prod", "--cluster");
        assert_eq!(header(&m), "=== prod ===\n");
        m.region = Some("eu-north-1".into());
        assert_eq!(header(&m), "=== prod (eu-north-1) ===\n");
    }
}
