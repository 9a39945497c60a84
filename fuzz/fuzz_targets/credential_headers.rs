//! `keyward::http::extract`: the credential from `Authorization` and `x-api-key` values.
//!
//! Input: a flags byte (bits 0-2: Bearer, x-api-key and Basic enabled; bits 3-7: which
//! of the first five lines are `x-api-key` values), then header values, one per line. A
//! line starting with byte 0x01 becomes `Basic <base64 of the rest>`, so decoded Basic
//! credentials are reached.
//! Invariants: a key comes from a header verbatim and is non-empty visible ASCII; an
//! oversized credential comes from a value over the limit; a pair's id has no colon; a present `x-api-key` is never ignored when enabled; sending
//! every header twice changes nothing; `Debug` shows no credential; a refusal renders
//! with at most 256 bytes of input in its body and headers.
#![no_main]

use base64::Engine;
use keyward::Credential;
use keyward::http::{
    CredentialSources, ExtractedCredential, MAX_CREDENTIAL_HEADER_LEN, extract, render,
};
use keyward_fuzz::assert_bounded_echo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let sources = CredentialSources {
        bearer: flags & 1 != 0,
        x_api_key: flags & 2 != 0,
        basic: flags & 4 != 0,
    };
    let mut authorization = Vec::new();
    let mut x_api_key = Vec::new();
    for (i, line) in rest.split(|&b| b == b'\n').enumerate() {
        let value = match line.split_first() {
            Some((1, raw)) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
                format!("Basic {encoded}").into_bytes()
            }
            _ => line.to_vec(),
        };
        if i < 5 && flags & (8 << i) != 0 {
            x_api_key.push(value);
        } else {
            authorization.push(value);
        }
    }
    let auth = || authorization.iter().map(Vec::as_slice);
    let api = || x_api_key.iter().map(Vec::as_slice);

    let result = extract(sources, auth(), api());
    let twice = extract(sources, auth().chain(auth()), api().chain(api()));
    match (&result, &twice) {
        (Ok(a), Ok(b)) => assert_eq!(
            a.as_ref().map(|c| c.credential()),
            b.as_ref().map(|c| c.credential()),
            "sending every header twice changed the credential"
        ),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("sending every header twice changed the outcome"),
    }

    match result {
        Ok(Some(found)) => {
            // Debug output is the same whatever the credential holds.
            let long = [b'k'; MAX_CREDENTIAL_HEADER_LEN + 1];
            let sample = match found {
                ExtractedCredential::Key(_) => &b"Bearer 0"[..],
                ExtractedCredential::Basic { .. } => &b"Basic MDow"[..],
                ExtractedCredential::Oversized => &long[..],
            };
            let sample = extract(CredentialSources::default(), [], [sample])
                .or_else(|_| extract(CredentialSources::default(), [sample], []))
                .unwrap()
                .unwrap();
            assert_eq!(format!("{found:?}"), format!("{sample:?}"));
            assert_eq!(
                format!("{:?}", found.credential()),
                format!("{:?}", sample.credential())
            );
            match (&found, found.credential()) {
                (ExtractedCredential::Oversized, credential) => {
                    assert_eq!(credential, Credential::Key(""));
                    assert!(
                        authorization
                            .iter()
                            .chain(&x_api_key)
                            .any(|v| v.len() > MAX_CREDENTIAL_HEADER_LEN),
                        "no header is oversized"
                    );
                }
                (_, Credential::Key(key)) => {
                    assert!(sources.bearer || sources.x_api_key);
                    assert!(!key.is_empty());
                    assert!(key.bytes().all(|b| b.is_ascii_graphic()), "{key:?}");
                    assert!(
                        authorization
                            .iter()
                            .chain(&x_api_key)
                            .any(|v| v.len() <= MAX_CREDENTIAL_HEADER_LEN
                                && contains(v, key.as_bytes())),
                        "the key is not in any header"
                    );
                }
                (_, Credential::Pair { id, secret }) => {
                    assert!(sources.basic);
                    assert!(!id.contains(':'));
                    assert!(!format!("{id}{secret}").chars().any(char::is_control));
                }
            }
        }
        Ok(None) => {
            assert!(
                !(sources.x_api_key && !x_api_key.is_empty()),
                "an x-api-key header was ignored"
            );
        }
        Err(e) => {
            let response = render(&e, "api");
            let mut shown = format!("{e} {e:?} {}", response.body);
            for (_, value) in &response.headers {
                shown.push_str(value);
            }
            assert_bounded_echo(&shown, rest, "a credential refusal");
        }
    }
});

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
