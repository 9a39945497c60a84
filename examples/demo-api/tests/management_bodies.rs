//! The management routes' JSON bodies, checked on their own as a fuzz target checks
//! them: any bytes, an answer that quotes at most 256 bytes of them.

use keyward::http::{MAX_BODY_LEN, RequestBody};
use keyward_demo_api::{ManagementBody, parse_management_body};
use serde_json::Value;

fn refused(route: ManagementBody, body: RequestBody<'_>) -> (u16, Value) {
    let response = parse_management_body(route, body).expect_err("refused");
    let json = serde_json::from_str(&response.body).expect("a JSON body");
    (response.status, json)
}

#[test]
fn well_formed_bodies_pass() {
    let create = br#"{"name": "ci", "capabilities": ["jobs:read"], "expires_in_seconds": 60}"#;
    assert!(parse_management_body(ManagementBody::CreateKey, RequestBody::json(create)).is_ok());
    let roll = br#"{"grace_seconds": 30}"#;
    assert!(parse_management_body(ManagementBody::RollKey, RequestBody::json(roll)).is_ok());
    assert!(parse_management_body(ManagementBody::RollKey, RequestBody::default()).is_ok());
}

#[test]
fn each_refusal_has_its_status_and_code() {
    let create = ManagementBody::CreateKey;
    let (status, body) = refused(create, RequestBody::default());
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(body["message"], "a JSON body is required");

    let text = RequestBody {
        content_type: Some(b"text/plain; charset=utf-8"),
        bytes: br#"{"name": "x"}"#,
    };
    let (status, body) = refused(create, text);
    assert_eq!(
        (status, body["error"].as_str()),
        (415, Some("unsupported_media_type"))
    );

    let long = vec![b' '; MAX_BODY_LEN + 1];
    let (status, body) = refused(create, RequestBody::json(&long));
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("payload_too_large"))
    );

    let (status, body) = refused(
        create,
        RequestBody::json(br#"{"name": "x", "capabilities": ["no:pe"]}"#),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unknown_capability"))
    );
    assert_eq!(body["capabilities"], serde_json::json!(["no:pe"]));
}

#[test]
fn no_refusal_quotes_more_than_256_bytes_of_the_body() {
    let name = "q".repeat(MAX_BODY_LEN - 64);
    let many: Vec<String> = (0..800).map(|i| format!("zz:{i:03}")).collect();
    let bodies = [
        format!(r#"{{"name": "n", "capabilities": ["{name}"]}}"#),
        serde_json::json!({"name": "n", "capabilities": many}).to_string(),
        format!(r#"{{"{name}": 1}}"#),
        format!(r#"{{"name": {name}}}"#),
        format!(r#"{{"grace_seconds": "{name}"}}"#),
        format!("\"{name}"),
    ];
    for route in [ManagementBody::CreateKey, ManagementBody::RollKey] {
        for body in &bodies {
            let Err(response) = parse_management_body(route, RequestBody::json(body.as_bytes()))
            else {
                panic!("accepted {body:.40}");
            };
            let json: Value = serde_json::from_str(&response.body).expect("JSON");
            let echoed: usize = json["capabilities"]
                .as_array()
                .map(|names| names.iter().filter_map(Value::as_str).map(str::len).sum())
                .unwrap_or_default();
            assert!(
                echoed <= 256,
                "{route:?}: {echoed} bytes echoed for {body:.40}"
            );
            assert!(response.body.len() <= 1024, "{}", response.body);
            assert!(
                !response.body.contains(&"q".repeat(65)),
                "{}",
                response.body
            );
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap stand-in for the fuzz target: every prefix of a few tricky inputs.
    let seeds: [&[u8]; 4] = [
        br#"{"name": "\u202e", "capabilities": ["a", 1, null], "expires_in_seconds": -1}"#,
        b"\xff\xfe{\"name\":\"\xc3\x28\"}",
        br#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]"#,
        br#"{"grace_seconds": 18446744073709551616}"#,
    ];
    for seed in seeds {
        for end in 0..=seed.len() {
            for route in [ManagementBody::CreateKey, ManagementBody::RollKey] {
                if let Err(response) = parse_management_body(route, RequestBody::json(&seed[..end]))
                {
                    assert!(matches!(response.status, 400 | 413 | 415), "{response:?}");
                    serde_json::from_str::<Value>(&response.body).expect("JSON");
                }
            }
        }
    }
}

#[test]
fn a_body_is_an_object_never_an_array_of_fields() {
    // serde alone reads a struct from an array of its fields in order.
    for (route, array) in [
        (
            ManagementBody::CreateKey,
            &br#"["ci", ["desktop:read"], 60]"#[..],
        ),
        (ManagementBody::RollKey, &b"[]"[..]),
        (ManagementBody::RollKey, &b"\n  [30]"[..]),
    ] {
        let (status, body) = refused(route, RequestBody::json(array));
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request"))
        );
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("not a JSON object"), "{message}");
    }
    let (_, body) = refused(ManagementBody::RollKey, RequestBody::json(b"\n  [30]"));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("line 2, column 3"),
        "{body}"
    );
}
