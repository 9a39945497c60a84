//! The scenario's keys: minted through the management API, and wrong secrets forged for
//! known ids.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hyper::Method;
use keyward_format::{CHECKSUM_LEN, ID_LEN, KeyFormat, KeyId, SECRET_LEN};
use serde_json::Value;

use crate::http::{Connection, Error};

/// The key alphabet, in digit order.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key minted for the scenario.
pub struct Minted {
    /// Its public id.
    pub id: KeyId,
    /// The whole key, as a client presents it.
    pub key: String,
}

/// Mints one key through `POST /v1/api_keys` with `admin_key`.
pub async fn mint(
    connection: &mut Connection,
    admin_key: &str,
    name: &str,
) -> Result<Minted, Error> {
    let bearer = format!("Bearer {admin_key}");
    let body = serde_json::json!({ "name": name }).to_string();
    let answer = connection
        .send(
            Method::POST,
            "/v1/api_keys",
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await?;
    if answer.status != 201 {
        return Err(format!(
            "minting a key answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )
        .into());
    }
    let created: Value = serde_json::from_slice(&answer.body)?;
    let field = |name: &str| {
        created[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("the minted key has no {name:?}"))
    };
    Ok(Minted {
        id: KeyId::parse(&field("id")?)?,
        key: field("key")?,
    })
}

/// The format of `key`: its prefix is what precedes the fixed-length body.
pub fn format_of(key: &str) -> Result<KeyFormat, Error> {
    let body = ID_LEN + SECRET_LEN + CHECKSUM_LEN;
    let prefix = key
        .len()
        .checked_sub(body)
        .and_then(|end| key.get(..end))
        .ok_or("a minted key is shorter than a key body")?;
    Ok(KeyFormat::new(prefix)?)
}

/// Forges wrong secrets for known ids: each key has a valid checksum, so the server
/// parses it, finds the id and, on a cache miss, has to hash the secret to refuse it.
pub struct Forger {
    format: KeyFormat,
}

impl Forger {
    /// A forger for `format`, checked once against `format`'s own parser.
    pub fn new(format: KeyFormat, id: &KeyId) -> Result<Self, Error> {
        let forger = Forger { format };
        let sample = forger.wrong_secret(id);
        match forger.format.parse(&sample) {
            Ok(parsed) if parsed.id() == *id => Ok(forger),
            _ => Err("a forged key does not parse: the key layout has changed".into()),
        }
    }

    /// A key with `id`, a random secret and its checksum.
    pub fn wrong_secret(&self, id: &KeyId) -> String {
        let mut random = [0u8; SECRET_LEN];
        random_bytes(&mut random);
        let mut key = String::with_capacity(self.format.key_len());
        key.push_str(self.format.prefix());
        key.push_str(id.as_str());
        key.extend(
            random
                .iter()
                .map(|&b| char::from(BASE62[usize::from(b) % 62])),
        );
        // CRC32 of everything before it, as six base62 digits, most significant first.
        let mut sum = u64::from(crc32fast::hash(key.as_bytes()));
        let mut digits = [0u8; CHECKSUM_LEN];
        for digit in digits.iter_mut().rev() {
            *digit = BASE62[(sum % 62) as usize];
            sum /= 62;
        }
        key.extend(digits.iter().map(|&b| char::from(b)));
        key
    }
}

/// A random client address, IPv4 or IPv6 with equal odds, for `X-Forwarded-For`.
pub fn random_client_ip() -> IpAddr {
    let mut bytes = [0u8; 17];
    random_bytes(&mut bytes);
    let [v6 @ .., choice] = bytes;
    if choice & 1 == 0 {
        // Outside 127.0.0.0/8, which the server trusts as its proxy.
        let first = if v6[0] == 127 { 128 } else { v6[0] };
        IpAddr::V4(Ipv4Addr::new(first, v6[1], v6[2], v6[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(v6))
    }
}

fn random_bytes(out: &mut [u8]) {
    getrandom::fill(out).expect("the OS random source");
}
