//! A caller-owned bump arena for the strings an authenticator composes or decodes.
//!
//! Why an arena of successive `split_at_mut`s: each piece handed out lives as long as the
//! caller's buffer (`'a`), while the arena itself is only borrowed briefly (`&mut
//! Scratch<'a>`). A union can therefore offer the same arena to one strategy after another
//! and return the first success without the borrow checker tying the arena to a result —
//! and no `unsafe`, no heap, no global buffer is needed. Space used by a strategy that then
//! declines is not reclaimed; size the buffer for the strategies configured.

use crate::error::{Error, Limit};

/// A bump arena over a caller-owned byte buffer.
#[derive(Debug, Default)]
pub struct Scratch<'a> {
    rest: &'a mut [u8],
}

impl<'a> Scratch<'a> {
    /// An arena over `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Scratch { rest: buf }
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Takes `len` bytes whose contents are unspecified (the caller overwrites them). Fails
    /// with [`Limit::Scratch`] when the buffer is too small.
    pub fn alloc(&mut self, len: usize) -> Result<&'a mut [u8], Error> {
        if len > self.rest.len() {
            return Err(Error::LimitExceeded(Limit::Scratch));
        }
        let buf = core::mem::take(&mut self.rest);
        let (head, tail) = buf.split_at_mut(len);
        self.rest = tail;
        Ok(head)
    }

    /// Lends the whole free space to `f`, which returns how many leading bytes it used and a
    /// value; those bytes are then kept (handed out as `'a`) and the rest stays free.
    pub fn fill_with<T, E>(
        &mut self,
        f: impl FnOnce(&mut [u8]) -> Result<(usize, T), E>,
    ) -> Result<(&'a mut [u8], T), E> {
        let buf = core::mem::take(&mut self.rest);
        let res = f(buf);
        match res {
            Ok((used, value)) => {
                let used = used.min(buf.len());
                let (head, tail) = buf.split_at_mut(used);
                self.rest = tail;
                Ok((head, value))
            }
            Err(e) => {
                self.rest = buf;
                Err(e)
            }
        }
    }

    /// Copies the concatenation of `parts` into the arena and returns it as a string.
    pub fn concat(&mut self, parts: &[&str]) -> Result<&'a str, Error> {
        let mut len = 0usize;
        for p in parts {
            len = len.checked_add(p.len()).ok_or(Error::LimitExceeded(Limit::Scratch))?;
        }
        let out = self.alloc(len)?;
        let mut at = 0;
        for p in parts {
            if let Some(dst) = out.get_mut(at..at + p.len()) {
                dst.copy_from_slice(p.as_bytes());
            }
            at += p.len();
        }
        let out: &'a [u8] = out;
        // Concatenated UTF-8 is UTF-8; the fallback is unreachable but keeps this panic-free.
        core::str::from_utf8(out).map_err(|_| Error::LimitExceeded(Limit::Scratch))
    }

    /// Copies `s` into the arena.
    pub fn copy_str(&mut self, s: &str) -> Result<&'a str, Error> {
        self.concat(&[s])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_outlive_the_arena_borrow() {
        let mut buf = [0u8; 32];
        let mut s = Scratch::new(&mut buf);
        let a = s.concat(&["system:", "x"]).unwrap();
        let b = s.concat(&["y"]).unwrap();
        assert_eq!((a, b), ("system:x", "y"));
        assert_eq!(s.remaining(), 32 - 9);
    }

    #[test]
    fn too_small_buffer_is_a_named_limit() {
        let mut buf = [0u8; 3];
        let mut s = Scratch::new(&mut buf);
        assert_eq!(s.concat(&["abcd"]), Err(Error::LimitExceeded(Limit::Scratch)));
        assert_eq!(s.remaining(), 3);
    }
}
