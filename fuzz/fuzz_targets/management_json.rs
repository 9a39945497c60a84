//! The key-management JSON bodies: `keyward::http::management::check_body` (size,
//! content type, serde, capability names), over `keyward::http::parse_json_body`.
//!
//! Input: a flags byte (bit 0: roll instead of create; bits 1-3: the `Content-Type`;
//! bit 4: pad the body with spaces to the size limit, bit 5: one byte past it; bit 6:
//! a route that takes no body instead), then the body.
//! Invariants: 413 exactly over the limit, 415 exactly for a non-blank body that is not
//! `application/json`; a blank body is the defaults for roll and 400 for create; an
//! accepted body is a JSON object with only the route's fields, never serde's array of
//! them in order; a route that takes no body accepts any; every refusal is a JSON
//! `{"error", …}` whose strings hold at most 256 bytes of the input in all (unknown
//! capability names as prefixes of requested ones), with a message that quotes nothing.
#![no_main]

use std::sync::OnceLock;

use keyward::http::management::{ManagementRoute, check_body};
use keyward::http::{MAX_BODY_LEN, RequestBody, RequestError, parse_json_body};
use keyward::scope::Catalog;
use keyward_fuzz::MAX_ECHO;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const CONTENT_TYPES: [Option<&[u8]>; 8] = [
    Some(b"application/json"),
    None,
    Some(b"Application/JSON; charset=utf-8"),
    Some(b"text/plain"),
    Some(b" application/json ;"),
    Some(b"application/jsonx"),
    Some(b"application/problem+json"),
    Some(b""),
];

/// The built-in demo catalog (whose names `fuzz/dict/management_json.dict` holds),
/// built once.
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| keyward::ConfigFile::demo().catalog().clone())
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let route = if flags & 1 == 0 {
        ManagementRoute::CreateKey
    } else {
        ManagementRoute::RollKey
    };
    let content_type = CONTENT_TYPES[usize::from(flags >> 1 & 7)];
    let mut bytes = rest.to_vec();
    if flags & 0x10 != 0 {
        let target = MAX_BODY_LEN + usize::from(flags & 0x20 != 0);
        bytes.resize(target.max(bytes.len()), b' ');
    }
    let body = RequestBody {
        content_type,
        bytes: &bytes,
    };

    let blank = bytes.iter().all(u8::is_ascii_whitespace);
    let json_type = content_type.is_some_and(is_json);
    let generic = parse_json_body::<Value>(body);
    match &generic {
        _ if bytes.len() > MAX_BODY_LEN => assert_eq!(generic, Err(RequestError::PayloadTooLarge)),
        _ if blank => assert_eq!(generic, Ok(None)),
        _ if !json_type => assert_eq!(generic, Err(RequestError::UnsupportedMediaType)),
        Ok(value) => assert!(value.is_some()),
        Err(e) => assert!(matches!(e, RequestError::InvalidJson(_)), "{e:?}"),
    }
    if let Err(e) = &generic {
        check_refusal(&e.render(), None);
    }

    if flags & 0x40 != 0 {
        // Showing, revoking, disabling or enabling a key reads no body.
        assert_eq!(
            check_body(ManagementRoute::ShowKey, body, catalog()),
            Ok(())
        );
        return;
    }

    match check_body(route, body, catalog()) {
        Ok(()) => {
            assert!(bytes.len() <= MAX_BODY_LEN);
            let fields: &[&str] = match route {
                ManagementRoute::CreateKey => &["name", "capabilities", "expires_in_seconds"],
                _ => &["grace_seconds"],
            };
            match generic {
                Ok(Some(Value::Object(object))) => {
                    assert!(object.keys().all(|k| fields.contains(&k.as_str())));
                    if route == ManagementRoute::CreateKey {
                        assert!(object.get("name").is_some_and(Value::is_string));
                    }
                }
                Ok(None) => assert_eq!(route, ManagementRoute::RollKey),
                other => panic!("accepted a body the generic parse gives {other:?}"),
            }
        }
        Err(refusal) => {
            let expected = match &generic {
                Err(RequestError::PayloadTooLarge) => Some(413),
                Err(RequestError::UnsupportedMediaType) => Some(415),
                Err(_) => Some(400),
                Ok(None) => Some(400), // create needs a body
                Ok(Some(_)) => None,   // fields, types or capability names
            };
            if let Some(status) = expected {
                assert_eq!(refusal.status, status, "{}", refusal.body);
            } else {
                assert_eq!(refusal.status, 400, "{}", refusal.body);
            }
            let request = match &generic {
                Ok(Some(value)) => Some(value),
                _ => None,
            };
            check_refusal(&refusal, request);
        }
    }
});

/// `application/json`, case-insensitive, parameters allowed.
fn is_json(content_type: &[u8]) -> bool {
    let media_type = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default();
    media_type
        .trim_ascii()
        .eq_ignore_ascii_case(b"application/json")
}

/// A JSON error body whose message quotes nothing and whose other strings hold at most
/// 256 bytes of the (decoded) input in all. Comparing raw bytes would overcount: JSON
/// punctuation and escapes such as `\u0000` come back as the client wrote them.
fn check_refusal(response: &keyward::http::HttpResponse, request: Option<&Value>) {
    assert!(
        matches!(response.status, 400 | 413 | 415),
        "{}",
        response.status
    );
    let body: Value = serde_json::from_str(&response.body).expect("a JSON error body");
    assert!(body["error"].is_string(), "{}", response.body);
    if let Some(message) = body.get("message") {
        let message = message.as_str().expect("a string message");
        assert!(message.len() < 200, "{message}");
    }
    let mut echoed = 0;
    for (field, value) in body.as_object().expect("an object") {
        if field != "error" && field != "message" {
            echoed += string_bytes(value);
        }
    }
    assert!(
        echoed <= MAX_ECHO,
        "{echoed} bytes of input in {}",
        response.body
    );
    // Unknown capability names come back as prefixes of names the request holds,
    // with `more` counting the ones left out.
    if let Some(shown) = body.get("capabilities") {
        let requested: Vec<&str> = request
            .and_then(|r| r.get("capabilities"))
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let shown = shown.as_array().expect("a list of names");
        for name in shown {
            let name = name.as_str().expect("a name");
            assert!(requested.iter().any(|r| r.starts_with(name)), "{name:?}");
        }
        let more = body.get("more").map_or(0, |m| m.as_u64().expect("a count"));
        assert!(shown.len() + usize::try_from(more).unwrap() <= requested.len());
    }
}

fn string_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(string_bytes).sum(),
        Value::Object(fields) => fields.iter().map(|(k, v)| k.len() + string_bytes(v)).sum(),
        _ => 0,
    }
}
