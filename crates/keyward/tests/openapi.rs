//! The management API's OpenAPI document: it parses, names every route, and every
//! answer the routes and the authentication in front of them give conforms to it (status
//! declared, required headers present, body valid against the schema).

mod common;

use common::{ip, rig};
use keyward::http::management::{ManagementApi, ManagementRequest, ManagementRoute, openapi};
use keyward::http::{HttpResponse, MAX_BODY_LEN, RequestBody, RequestError, render};
use keyward::scope::{Denied, Requirement};
use keyward::{AuthError, Credential, InvalidKeyReason, MintRequest};
use serde_json::{Value, json};

fn document(mount: &str) -> Value {
    serde_json::from_str(&openapi(mount)).expect("the document is JSON")
}

#[test]
fn it_is_openapi_3_1_with_every_route_under_the_mount() {
    for (mount, prefix) in [("/v1", "/v1"), ("", ""), ("/admin/keys/", "/admin/keys")] {
        let doc = document(mount);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for route in ManagementRoute::ALL {
            let path = format!("{prefix}{}", route.path());
            let method = route.method().to_ascii_lowercase();
            let operation = &doc["paths"][&path][&method];
            assert!(operation.is_object(), "{method} {path} under {mount:?}");
            operations += 1;
            if route.path().contains("{id}") {
                let id = &operation["parameters"][0];
                assert_eq!(
                    (id["name"].as_str(), id["in"].as_str()),
                    (Some("id"), Some("path"))
                );
                assert_eq!(id["required"], true);
            }
        }
        let declared: usize = paths
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(declared, operations, "no operation but the routes'");
    }
}

#[test]
fn every_reference_resolves_and_both_credential_forms_are_declared() {
    let doc = document("/v1");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").expect(&r);
        assert!(doc["components"]["schemas"][name].is_object(), "{r}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["bearer"],
        json!({"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"})
    );
    assert_eq!(schemes["x_api_key"]["in"], "header");
    assert_eq!(schemes["x_api_key"]["name"], "x-api-key");
    assert_eq!(doc["security"], json!([{"bearer": []}, {"x_api_key": []}]));
}

#[test]
fn parameters_say_what_the_routes_take() {
    let doc = document("");
    let list = &doc["paths"]["/api_keys"]["get"]["parameters"];
    assert_eq!(list[0]["name"], "limit");
    assert_eq!(list[0]["schema"]["minimum"], 1);
    assert_eq!(list[0]["schema"]["maximum"], 100);
    assert_eq!(list[1]["name"], "after");
    let revoke = &doc["paths"]["/api_keys/{id}"]["delete"]["parameters"];
    assert_eq!(revoke[1]["name"], "permanent");
    assert_eq!(revoke[1]["schema"]["type"], "boolean");
    let create = &doc["paths"]["/api_keys"]["post"]["requestBody"];
    assert_eq!(create["required"], true);
    let roll = &doc["paths"]["/api_keys/{id}/roll"]["post"]["requestBody"];
    assert_eq!(roll["required"], false);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CreateApiKeyRequest"]["additionalProperties"],
        false
    );
    assert_eq!(schemas["CreateApiKeyRequest"]["required"], json!(["name"]));
    assert_eq!(schemas["RollApiKeyRequest"]["additionalProperties"], false);
    let codes = schemas["ErrorBody"]["properties"]["error"]["enum"]
        .as_array()
        .unwrap();
    for code in keyward::ErrorCode::ALL {
        assert!(codes.contains(&json!(code.as_str())), "{code}");
    }
}

/// Every answer of a walk through the routes, and every refusal the authentication can
/// give, conforms to the route's declared responses.
#[tokio::test]
async fn every_answer_conforms_to_the_document() {
    let doc = document("/v1");
    let rig = rig();
    let api = ManagementApi::new(&rig.keyward).unwrap();
    let minted = rig
        .mint(MintRequest::new("admin", "u_1").capabilities(["keys:write", "jobs:write"]))
        .await;
    let me = rig
        .keyward
        .authenticator()
        .authenticate(
            Credential::Key(minted.key.expose()),
            &Requirement::none(),
            ip("192.0.2.1"),
        )
        .await
        .unwrap();
    let mut answers: Vec<(ManagementRoute, HttpResponse)> = Vec::new();
    let mut call = async |route: ManagementRoute,
                          id: Option<&str>,
                          query: Option<&str>,
                          body: RequestBody<'_>| {
        let request = ManagementRequest {
            principal: &me,
            path: "/v1/api_keys",
            id,
            query,
            body,
            client_ip: None,
        };
        let response = api.handle(route, request).await;
        answers.push((route, response.clone()));
        response
    };

    let created = call(
        ManagementRoute::CreateKey,
        None,
        None,
        RequestBody::json(
            br#"{"name": "CI", "capabilities": ["jobs:read"], "expires_in_seconds": 60}"#,
        ),
    )
    .await;
    let id: String = serde_json::from_str::<Value>(&created.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = rig
        .mint(MintRequest::new("other", "u_1").capabilities(["jobs:read"]))
        .await;
    let other = other.key.id();
    let id = id.as_str();
    let none = RequestBody::default();
    call(ManagementRoute::ListKeys, None, Some("limit=1"), none).await;
    call(ManagementRoute::ListKeys, None, Some("limit=0"), none).await;
    call(ManagementRoute::ListKeys, None, Some("after=x"), none).await;
    call(ManagementRoute::ShowKey, Some(id), None, none).await;
    call(ManagementRoute::ShowKey, Some("nope"), None, none).await;
    call(ManagementRoute::DisableKey, Some(id), None, none).await;
    call(ManagementRoute::EnableKey, Some(id), None, none).await;
    call(
        ManagementRoute::RollKey,
        Some(id),
        None,
        RequestBody::json(br#"{"grace_seconds": 5}"#),
    )
    .await;
    call(ManagementRoute::RollKey, Some(id), None, none).await; // 409
    call(ManagementRoute::KeyEvents, Some(id), None, none).await;
    call(ManagementRoute::KeyEvents, Some(id), Some("limit=1"), none).await;
    call(ManagementRoute::KeyEvents, Some(id), Some("after=x"), none).await;
    call(ManagementRoute::KeyEvents, Some("nope"), None, none).await;
    call(ManagementRoute::KeyUsage, Some(id), None, none).await;
    call(ManagementRoute::KeyUsage, Some("nope"), None, none).await;
    call(
        ManagementRoute::RollKey,
        Some(id),
        None,
        RequestBody::json(b"[]"),
    )
    .await;
    call(
        ManagementRoute::RevokeKey,
        Some(id),
        Some("permanent=maybe"),
        none,
    )
    .await;
    call(ManagementRoute::RevokeKey, Some(id), None, none).await;
    call(
        ManagementRoute::RevokeKey,
        Some(other.as_str()),
        Some("permanent=true"),
        none,
    )
    .await;
    let too_long = vec![b' '; MAX_BODY_LEN + 1];
    for body in [
        RequestBody::json(br#"{"name": "x", "capabilities": ["nope"]}"#),
        RequestBody::json(br#"{"name": "x", "capabilities": ["keys:write", "kb:read"]}"#),
        RequestBody::json(br#"{"name": ""}"#),
        RequestBody::json(&too_long),
        RequestBody {
            content_type: Some(b"text/plain"),
            bytes: b"{}",
        },
    ] {
        call(ManagementRoute::CreateKey, None, None, body).await;
    }
    rig.store
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    call(ManagementRoute::ListKeys, None, None, none).await;
    call(
        ManagementRoute::CreateKey,
        None,
        None,
        RequestBody::json(br#"{"name": "x"}"#),
    )
    .await;

    let mut statuses: Vec<u16> = answers.iter().map(|(_, r)| r.status).collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(statuses, [200, 201, 204, 400, 403, 404, 409, 413, 415, 503]);

    // What the authentication and the adapter's body reading answer, on every route.
    let denied = Denied {
        required: vec!["keys:write".into()],
        held: vec!["keys:read".into()],
    };
    let refusals = [
        render(&AuthError::MissingCredential, "api"),
        render(&AuthError::InvalidKey(InvalidKeyReason::UnknownKey), "api"),
        render(&AuthError::KeyRevoked, "api"),
        render(&AuthError::KeyExpired, "api"),
        render(&AuthError::KeyDisabled, "api"),
        render(&AuthError::IpNotAllowed, "api"),
        render(&AuthError::InsufficientCapability(denied), "api"),
        render(
            &AuthError::RateLimited {
                retry_after: 2,
                limit: 60,
                reset: 60,
                scope: keyward::limit::LimitScope::Key,
                period: std::time::Duration::from_secs(60),
            },
            "api",
        ),
        render(&AuthError::TooManyFailedAttempts { retry_after: 60 }, "api"),
        render(
            &AuthError::InvalidRequest("two different credentials"),
            "api",
        ),
        render(&AuthError::Unavailable { retry_after: 1 }, "api"),
        RequestError::PayloadTooLarge.render(),
        RequestError::UnreadableBody.render(),
    ];
    for route in ManagementRoute::ALL {
        for refusal in &refusals {
            answers.push((route, refusal.clone()));
        }
    }

    for (route, response) in &answers {
        conforms(&doc, *route, response);
    }
}

/// `response` is declared for `route`: its status, its required headers, and its body
/// valid against the declared schema (or no body where none is declared).
fn conforms(doc: &Value, route: ManagementRoute, response: &HttpResponse) {
    let what = format!("{route:?} {} {}", response.status, response.body);
    let operation =
        &doc["paths"][format!("/v1{}", route.path())][route.method().to_ascii_lowercase()];
    let declared = &operation["responses"][response.status.to_string()];
    assert!(declared.is_object(), "undeclared: {what}");
    if let Some(headers) = declared["headers"].as_object() {
        for (name, header) in headers {
            let value = response
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
            match value {
                None => assert_ne!(header["required"], true, "{name} missing: {what}"),
                Some(value) => {
                    let value = match header["schema"]["type"].as_str() {
                        Some("integer") => json!(value.parse::<i64>().expect(value)),
                        _ => json!(value),
                    };
                    validate(doc, &header["schema"], &value, &format!("{name}: {what}"));
                }
            }
        }
    }
    match declared["content"]["application/json"]["schema"].as_object() {
        None => assert!(response.body.is_empty(), "a body: {what}"),
        Some(schema) => {
            let content_type = response
                .headers
                .iter()
                .find(|(n, _)| *n == "content-type")
                .map(|(_, v)| v.as_str());
            assert_eq!(content_type, Some("application/json"), "{what}");
            let body: Value = serde_json::from_str(&response.body).expect(&what);
            validate(doc, &Value::Object(schema.clone()), &body, &what);
        }
    }
}

/// The subset of JSON Schema the document uses: `$ref`, `allOf`, `oneOf`, `type` (one
/// or several), `enum`, `required`, `properties`, `additionalProperties: false`,
/// `items`, `minimum`, `maximum`, `minLength`, `pattern` (the id's only).
fn validate(doc: &Value, schema: &Value, value: &Value, what: &str) {
    assert!(
        valid(doc, schema, value),
        "{value} does not match {schema}: {what}"
    );
}

fn valid(doc: &Value, schema: &Value, value: &Value) -> bool {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        if !valid(doc, &doc["components"]["schemas"][name], value) {
            return false;
        }
    }
    if let Some(all) = schema["allOf"].as_array()
        && !all.iter().all(|s| valid(doc, s, value))
    {
        return false;
    }
    if let Some(one) = schema["oneOf"].as_array()
        && one.iter().filter(|s| valid(doc, s, value)).count() != 1
    {
        return false;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| has_type(value, t)) {
        return false;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return false;
    }
    if let Some(n) = value.as_f64()
        && (schema["minimum"].as_f64().is_some_and(|min| n < min)
            || schema["maximum"].as_f64().is_some_and(|max| n > max))
    {
        return false;
    }
    if let Some(s) = value.as_str() {
        if schema["minLength"]
            .as_u64()
            .is_some_and(|min| (s.chars().count() as u64) < min)
        {
            return false;
        }
        if schema["pattern"].is_string()
            && !(s.len() == 12 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return false;
        }
    }
    if let Some(items) = value.as_array()
        && schema["items"].is_object()
        && !items.iter().all(|item| valid(doc, &schema["items"], item))
    {
        return false;
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        if let Some(required) = schema["required"].as_array()
            && !required
                .iter()
                .all(|name| object.contains_key(name.as_str().unwrap_or_default()))
        {
            return false;
        }
        for (name, field) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(property) => {
                    if !valid(doc, property, field) {
                        return false;
                    }
                }
                None => {
                    if schema["additionalProperties"] == false {
                        return false;
                    }
                }
            }
        }
    }
    true
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    refs.push(v.as_str().unwrap().to_owned());
                } else {
                    collect_refs(v, refs);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

/// An instance's document says what it accepts beyond the types: its catalog's names
/// and its longest roll grace, so a request valid by the schema is one it takes.
#[test]
fn an_instance_document_names_its_catalog_and_grace_cap() {
    let rig = rig();
    let api = ManagementApi::new(&rig.keyward).unwrap();
    let doc: Value = serde_json::from_str(&api.openapi("/v1")).unwrap();
    let schemas = &doc["components"]["schemas"];
    let names = &schemas["CreateApiKeyRequest"]["properties"]["capabilities"]["items"]["enum"];
    let catalog = rig.keyward.catalog();
    assert_eq!(names, &json!(catalog.names(&catalog.all())));
    assert!(names.as_array().unwrap().contains(&json!("keys:write")));
    assert_eq!(
        schemas["RollApiKeyRequest"]["properties"]["grace_seconds"]["maximum"],
        json!(rig.keyward.config().max_roll_grace.as_secs())
    );
    // Everything else is the generic document.
    let mut generic = document("/v1");
    generic["components"]["schemas"]["CreateApiKeyRequest"]["properties"]["capabilities"]["items"]
        .as_object_mut()
        .unwrap()
        .insert("enum".into(), names.clone());
    generic["components"]["schemas"]["RollApiKeyRequest"]["properties"]["grace_seconds"]
        .as_object_mut()
        .unwrap()
        .insert(
            "maximum".into(),
            schemas["RollApiKeyRequest"]["properties"]["grace_seconds"]["maximum"].clone(),
        );
    assert_eq!(doc, generic);
}

/// The name's schema states the route's rule: at most 200 characters, and a pattern
/// refusing controls, invisible formatting characters and line separators anywhere, and
/// names of whitespace alone.
#[test]
fn the_key_name_schema_states_the_names_rule() {
    let doc = document("/v1");
    let name = &doc["components"]["schemas"]["CreateApiKeyRequest"]["properties"]["name"];
    assert_eq!(name["maxLength"], json!(keyward::MAX_KEY_NAME_LEN));
    let pattern = name["pattern"].as_str().unwrap();
    let (anywhere, at_least_one) = {
        let inner = pattern.strip_prefix("^[^").unwrap();
        let (refused, rest) = inner.split_once("]*[^").unwrap();
        let (refused_or_space, _) = rest.split_once("][^").unwrap();
        (refused.to_owned(), refused_or_space.to_owned())
    };
    // Controls (C0, DEL and C1), a bidirectional override, a zero-width space, the BOM,
    // line and paragraph separators, and a tag character beyond the BMP.
    for refused in [
        '\0',
        '\n',
        '\u{7f}',
        '\u{85}',
        '\u{202e}',
        '\u{200b}',
        '\u{feff}',
        '\u{2028}',
        '\u{2029}',
        '\u{e0001}',
    ] {
        assert!(in_class(&anywhere, refused), "{refused:?} refused anywhere");
        assert!(
            in_class(&at_least_one, refused),
            "{refused:?} is not visible"
        );
    }
    for fine in ['a', 'é', ' ', '\u{3000}', '😀'] {
        assert!(!in_class(&anywhere, fine), "{fine:?} allowed in a name");
    }
    // Whitespace may appear, but not alone.
    for space in [' ', '\u{a0}', '\u{3000}'] {
        assert!(in_class(&at_least_one, space), "{space:?} alone is blank");
    }
}

/// Whether `c` is in a negated class body as the document writes it: `\uHHHH` escapes
/// or literal characters, with `-` ranges.
fn in_class(class: &str, c: char) -> bool {
    let mut chars = Vec::new();
    let mut rest = class;
    while !rest.is_empty() {
        if let Some(hex) = rest.strip_prefix("\\u") {
            chars.push(char::from_u32(u32::from_str_radix(&hex[..4], 16).unwrap()).unwrap());
            rest = &hex[4..];
        } else {
            let next = rest.chars().next().unwrap();
            chars.push(next);
            rest = &rest[next.len_utf8()..];
        }
    }
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            if (chars[i]..=chars[i + 2]).contains(&c) {
                return true;
            }
            i += 3;
        } else {
            if chars[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}
