use crate::format::KeyFormat;
use crate::key_id::KeyId;
use crate::mask::MaskedKey;

/// Finds leaked keys of one format in arbitrary text: the leak detector behind
/// `keyward scan`.
///
/// Only checksum-valid keys are reported, so a look-alike (`sk_live_` followed by
/// 50 random characters) is not. Works on bytes: binary or non-UTF-8 input is fine.
///
/// ```
/// use keyward_format::{KeyFormat, Scanner};
///
/// let format = KeyFormat::new("sk_live_")?;
/// let key = format.mint()?;
/// let text = format!("export API_KEY={}\n", key.expose());
/// let found: Vec<_> = Scanner::new(format).scan(text.as_bytes()).collect();
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].offset, "export API_KEY=".len());
/// assert_eq!(found[0].id, key.id());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Scanner {
    format: KeyFormat,
}

/// A checksum-valid key found by a [`Scanner`]. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte offset of the key's first character in the scanned text.
    pub offset: usize,
    /// The key's public id.
    pub id: KeyId,
    /// The key's masked preview, safe to print.
    pub masked: MaskedKey,
}

impl Scanner {
    /// A scanner for keys of `format`.
    pub fn new(format: KeyFormat) -> Self {
        Scanner { format }
    }

    /// Every checksum-valid key in `text`, in order of offset.
    pub fn scan<'s, 't>(&'s self, text: &'t [u8]) -> impl Iterator<Item = Found> + use<'s, 't> {
        let prefix = self.format.prefix().as_bytes();
        let key_len = self.format.key_len();
        let mut at = 0;
        std::iter::from_fn(move || {
            while at + key_len <= text.len() {
                let start = at + find(&text[at..], prefix)?;
                let Some(candidate) = text.get(start..start + key_len) else {
                    at = text.len();
                    return None;
                };
                at = start + 1;
                let Ok(candidate) = std::str::from_utf8(candidate) else {
                    continue;
                };
                if let Ok(key) = self.format.parse(candidate) {
                    at = start + key_len;
                    return Some(Found {
                        offset: start,
                        id: key.id(),
                        masked: MaskedKey::of(candidate, prefix.len()),
                    });
                }
            }
            None
        })
    }
}

/// Offset of the first occurrence of `needle` (non-empty) in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = haystack[from..].iter().position(|&b| b == first) {
        let start = from + i;
        if haystack[start + 1..].starts_with(rest) {
            return Some(start);
        }
        from = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format() -> KeyFormat {
        KeyFormat::new("sk_live_").unwrap()
    }

    #[test]
    fn finds_every_valid_key_with_its_offset() {
        let f = format();
        let (a, b) = (f.mint().unwrap(), f.mint().unwrap());
        let text = format!("a={} b=\"{}\"{}", a.expose(), b.expose(), a.expose());
        let found: Vec<_> = Scanner::new(f).scan(text.as_bytes()).collect();
        let offsets: Vec<_> = found.iter().map(|x| x.offset).collect();
        assert_eq!(offsets, [2, 2 + 58 + 4, 2 + 58 + 4 + 58 + 1]);
        assert_eq!(found[1].id, b.id());
        assert_eq!(found[0].masked, a.masked());
    }

    #[test]
    fn ignores_look_alikes_and_other_prefixes() {
        let f = format();
        let real = f.mint().unwrap();
        let mut fake = real.expose().to_string();
        fake.replace_range(30..31, if &fake[30..31] == "a" { "b" } else { "a" });
        let test_key = KeyFormat::new("sk_test_").unwrap().mint().unwrap();
        let text = format!("{fake} {} sk_live_ sk_live_short", test_key.expose());
        assert_eq!(Scanner::new(f).scan(text.as_bytes()).count(), 0);
    }

    #[test]
    fn handles_binary_truncated_and_overlapping_input() {
        let f = format();
        let k = f.mint().unwrap();
        let mut bytes = vec![0xff, 0x00, b's'];
        bytes.extend_from_slice(b"sk_live_sk_live_");
        bytes.extend_from_slice(k.expose().as_bytes());
        bytes.extend_from_slice(&[0xc3]);
        let found: Vec<_> = Scanner::new(f.clone()).scan(&bytes).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].offset, 3 + 16);
        let truncated = &k.expose().as_bytes()[..40];
        assert_eq!(Scanner::new(f).scan(truncated).count(), 0);
    }
}
