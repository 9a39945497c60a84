//! [`PublicKeys`]: the keys GitHub signs its alerts with, by identifier.

use p256::ecdsa::VerifyingKey;
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const END: &str = "-----END PUBLIC KEY-----";

/// The public keys alerts may be signed with, each under its identifier (the value of
/// the `Github-Public-Key-Identifier` header).
///
/// Read from what GitHub publishes at
/// `https://api.github.com/meta/public_keys/secret_scanning`
/// (`{"public_keys": [{"key_identifier", "key", "is_current"}]}`), or from a file of
/// PEM public keys, each then known by the hex SHA-256 of its PEM text, which is how
/// GitHub derives its identifiers. Only ECDSA P-256 keys are accepted.
///
/// ```
/// use keyward_secret_scanning::PublicKeys;
///
/// // The test key of GitHub's partner program documentation.
/// let pem = "-----BEGIN PUBLIC KEY-----
/// MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsz9ugWDj5jK5ELBK42ynytbo38gP
/// HzZFI03Exwz8Lh/tCfL3YxwMdLjB+bMznsanlhK0RwcGP3IDb34kQDIo3Q==
/// -----END PUBLIC KEY-----
/// ";
/// let keys = PublicKeys::parse(pem)?;
/// assert_eq!(
///     keys.identifiers().collect::<Vec<_>>(),
///     ["f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d"]
/// );
/// # Ok::<(), keyward_secret_scanning::PublicKeysError>(())
/// ```
#[derive(Clone)]
pub struct PublicKeys {
    keys: Vec<(String, VerifyingKey)>,
}

/// Why a public keys file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PublicKeysError {
    /// The text starts like JSON (`{`) but is not GitHub's `{"public_keys": […]}`.
    #[error("not GitHub's public keys JSON ({what} at line {line}, column {column})")]
    Json {
        /// serde's category of the failure.
        what: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// No key in the file.
    #[error("no public key in the file")]
    Empty,
    /// A PEM block that is not a public key (a private key, a certificate), or one
    /// without its end line.
    #[error("PEM block {index} is not a complete `PUBLIC KEY` block")]
    NotAPublicKey {
        /// 1-based position of the block in the file.
        index: usize,
    },
    /// A key that is not an ECDSA P-256 public key.
    #[error("key {identifier} is not an ECDSA P-256 public key")]
    NotP256 {
        /// The key's identifier.
        identifier: String,
    },
}

/// GitHub's published shape.
#[derive(Deserialize)]
struct Published {
    public_keys: Vec<PublishedKey>,
}

#[derive(Deserialize)]
struct PublishedKey {
    key_identifier: String,
    key: String,
}

impl PublicKeys {
    /// Reads GitHub's JSON (text starting with `{`) or a list of PEM public keys.
    ///
    /// # Errors
    ///
    /// [`PublicKeysError`] when the file holds no key, or anything that is not a P-256
    /// public key.
    pub fn parse(text: &str) -> Result<PublicKeys, PublicKeysError> {
        let keys = if text.trim_start().starts_with('{') {
            Self::from_json(text)?
        } else {
            Self::from_pem(text)?
        };
        if keys.is_empty() {
            return Err(PublicKeysError::Empty);
        }
        Ok(PublicKeys { keys })
    }

    fn from_json(text: &str) -> Result<Vec<(String, VerifyingKey)>, PublicKeysError> {
        let published: Published = serde_json::from_str(text).map_err(|e| {
            use serde_json::error::Category;
            PublicKeysError::Json {
                what: match e.classify() {
                    Category::Data => "unexpected fields or types",
                    Category::Eof => "ends early",
                    Category::Syntax | Category::Io => "syntax error",
                },
                line: e.line(),
                column: e.column(),
            }
        })?;
        published
            .public_keys
            .into_iter()
            .map(|k| {
                let key = decode(&k.key, &k.key_identifier)?;
                Ok((k.key_identifier, key))
            })
            .collect()
    }

    fn from_pem(text: &str) -> Result<Vec<(String, VerifyingKey)>, PublicKeysError> {
        let mut keys = Vec::new();
        let mut rest = text;
        let mut index = 0;
        while let Some(start) = rest.find("-----BEGIN ") {
            index += 1;
            rest = &rest[start..];
            if !rest.starts_with(BEGIN) {
                return Err(PublicKeysError::NotAPublicKey { index });
            }
            let Some(end) = rest.find(END) else {
                return Err(PublicKeysError::NotAPublicKey { index });
            };
            let block = &rest[..end + END.len()];
            rest = &rest[end + END.len()..];
            // GitHub's identifier: the SHA-256 of the PEM text, `\n` line ends and one
            // after the end line.
            let mut normalized: String = block
                .lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n");
            normalized.push('\n');
            let identifier = hex(&Sha256::digest(normalized.as_bytes()));
            let key = decode(&normalized, &identifier)?;
            keys.push((identifier, key));
        }
        Ok(keys)
    }

    /// The identifiers of the keys, in file order.
    pub fn identifiers(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// The key named `identifier`, compared as sent (GitHub's are lower-case hex).
    pub(crate) fn get(&self, identifier: &str) -> Option<&VerifyingKey> {
        self.keys
            .iter()
            .find(|(id, _)| id == identifier)
            .map(|(_, key)| key)
    }
}

impl std::fmt::Debug for PublicKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKeys")
            .field("identifiers", &self.identifiers().collect::<Vec<_>>())
            .finish()
    }
}

fn decode(pem: &str, identifier: &str) -> Result<VerifyingKey, PublicKeysError> {
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|_| PublicKeysError::NotP256 {
        identifier: identifier.to_owned(),
    })
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test key of GitHub's partner program documentation, and its identifier.
    const GITHUB_TEST_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsz9ugWDj5jK5ELBK42ynytbo38gP\nHzZFI03Exwz8Lh/tCfL3YxwMdLjB+bMznsanlhK0RwcGP3IDb34kQDIo3Q==\n-----END PUBLIC KEY-----\n";
    const GITHUB_TEST_ID: &str = "f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d";

    #[test]
    fn github_json_and_pem_lists_name_keys_alike() {
        let json = serde_json::json!({"public_keys": [
            {"key_identifier": GITHUB_TEST_ID, "key": GITHUB_TEST_PEM, "is_current": true}
        ]})
        .to_string();
        let from_json = PublicKeys::parse(&json).unwrap();
        assert!(from_json.get(GITHUB_TEST_ID).is_some());
        // A PEM list, with CRLF line ends and text around the block.
        let crlf = format!("# GitHub\r\n{}", GITHUB_TEST_PEM.replace('\n', "\r\n"));
        let from_pem = PublicKeys::parse(&crlf).unwrap();
        assert_eq!(from_pem.identifiers().collect::<Vec<_>>(), [GITHUB_TEST_ID]);
        assert!(from_pem.get("0000").is_none());
    }

    #[test]
    fn anything_but_p256_public_keys_is_refused() {
        assert_eq!(PublicKeys::parse(""), Err(PublicKeysError::Empty));
        assert_eq!(
            PublicKeys::parse(r#"{"public_keys": []}"#),
            Err(PublicKeysError::Empty)
        );
        assert!(matches!(
            PublicKeys::parse(r#"{"keys": 1}"#),
            Err(PublicKeysError::Json { .. })
        ));
        let private = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            PublicKeys::parse(&format!("{GITHUB_TEST_PEM}{private}")),
            Err(PublicKeysError::NotAPublicKey { index: 2 })
        );
        assert_eq!(
            PublicKeys::parse("-----BEGIN PUBLIC KEY-----\nMFkw\n"),
            Err(PublicKeysError::NotAPublicKey { index: 1 })
        );
        let garbled = GITHUB_TEST_PEM.replace("MFkw", "MFkx");
        assert!(matches!(
            PublicKeys::parse(&garbled),
            Err(PublicKeysError::NotP256 { .. })
        ));
    }

    /// Keys of other curves and algorithms, secp256k1 among them (the same size as
    /// P-256, so only the curve's identifier tells them apart): each refused by name.
    #[test]
    fn keys_of_other_curves_are_refused() {
        let others = [
            // secp384r1
            "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEE7pkqCCkVNwsnZ6JYhCgt+YjJSee8vYh\n\
             50RyYIW8991Um7NTtBP71r2VkWH8C54GqHB5fjqZBCobczdHseIxw6jJTU2HRLIT\n\
             qK0JSWTj49qRtog1S7XYMLu3dQu7yqK+",
            // Ed25519
            "MCowBQYDK2VwAyEA41XdADQUFBTWPqZp9WpW8lfDRaubYC1tRvPMU4k3Jzw=",
            // secp256k1
            "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE0+PYu7V9fU/YtpzVKy3zpHpet07woj0q\n\
             Jr2VitVTC6zBaQOesOUibkf2CfKvWGYaQvCU4nKAWeePTA72bdDlTw==",
        ];
        for body in others {
            let pem = format!("{BEGIN}\n{body}\n{END}\n");
            assert!(
                matches!(
                    PublicKeys::parse(&pem),
                    Err(PublicKeysError::NotP256 { .. })
                ),
                "{body:.24}"
            );
            let json = serde_json::json!({"public_keys": [
                {"key_identifier": "other", "key": pem, "is_current": true}
            ]})
            .to_string();
            assert_eq!(
                PublicKeys::parse(&json),
                Err(PublicKeysError::NotP256 {
                    identifier: "other".to_owned()
                })
            );
        }
    }

    impl PartialEq for PublicKeys {
        fn eq(&self, other: &Self) -> bool {
            self.identifiers().eq(other.identifiers())
        }
    }
}
