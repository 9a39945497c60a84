//! The dashboard driven through `Dashboard::handle`, as a mount drives it: pages,
//! show-once slots, CSRF, the no-escalation rules and the headers of every answer.

mod common;

use std::time::Duration;

use common::{MOUNT, csrf_in, dashboard, header, shown_key, u1};
use keyward::http::HttpResponse;
use keyward::scope::CapabilitySet;
use keyward::store::{KeyState, PageRequest};
use keyward::{KeySummary, MintRequest};
use keyward_dashboard::{Dashboard, DashboardRequest, MAX_BODY_LEN, SignedInUser};
use keyward_testing::rig::{Rig, catalog, rig};

/// A form's fields, in order.
type FormFields<'a> = &'a [(&'a str, &'a str)];

const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn caps(names: &[&str]) -> CapabilitySet {
    catalog().set(names).unwrap()
}

/// u_2 holds the default grants plus keys:read and keys:write.
fn u2(session: &str) -> SignedInUser {
    SignedInUser::new(
        session,
        "u_2",
        caps(&["desktop:read", "desktop:chat", "keys:read", "keys:write"]),
    )
}

/// The headers every answer carries; pages and redirects are never stored.
#[track_caller]
fn assert_secure(response: &HttpResponse) {
    assert_eq!(header(response, "content-security-policy"), Some(CSP));
    assert_eq!(header(response, "x-frame-options"), Some("DENY"));
    assert_eq!(header(response, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(response, "x-content-type-options"), Some("nosniff"));
    let is_asset = header(response, "content-type").is_some_and(|t| !t.starts_with("text/html"));
    if !is_asset {
        assert_eq!(header(response, "cache-control"), Some("no-store"));
        assert_eq!(
            header(response, "content-type"),
            Some("text/html; charset=utf-8")
        );
    }
    assert!(
        response.status < 500,
        "no 5xx for anything a client sends: {response:?}"
    );
}

/// Sends `request` for `user` and checks the answer's headers.
async fn send(
    dashboard: &Dashboard,
    user: Option<&SignedInUser>,
    request: DashboardRequest<'_>,
) -> HttpResponse {
    let response = dashboard.handle(request, user, MOUNT).await;
    assert_secure(&response);
    response
}

/// GET `path` for `user`, checking the answer's headers.
async fn get(dashboard: &Dashboard, user: &SignedInUser, path: &str) -> HttpResponse {
    let response = common::get(dashboard, user, path).await;
    assert_secure(&response);
    response
}

/// POST `fields` as a form to `path` for `user`, checking the answer's headers.
async fn post(
    dashboard: &Dashboard,
    user: &SignedInUser,
    path: &str,
    fields: &[(&str, &str)],
) -> HttpResponse {
    let response = common::post(dashboard, user, path, fields).await;
    assert_secure(&response);
    response
}

/// The CSRF token in `user`'s list page.
async fn csrf(dashboard: &Dashboard, user: &SignedInUser) -> String {
    csrf_in(&get(dashboard, user, "/").await)
}

/// Where a 303 goes, below the mount.
#[track_caller]
fn redirect(response: &HttpResponse) -> &str {
    assert_eq!(response.status, 303, "{}", response.body);
    let location = header(response, "location").expect("a location");
    location
        .strip_prefix(MOUNT)
        .unwrap_or_else(|| panic!("{location} is under the mount"))
}

/// The table row of key `id`.
fn row<'b>(body: &'b str, id: &str) -> Option<&'b str> {
    let start = body.find(&format!(r#"data-key-id="{id}""#))?;
    let len = body[start..].find("</tr>")?;
    Some(&body[start..start + len])
}

async fn stored(rig: &Rig, owner: &str) -> Vec<KeySummary> {
    rig.keyward
        .keys()
        .list(
            &keyward::store::ListFilter {
                owner: Some(owner.to_string()),
                tenant: None,
                include_revoked: true,
            },
            PageRequest::first(100),
        )
        .await
        .unwrap()
        .keys
}

/// Creates a key through the form; returns the show-once path and the key.
async fn create(
    dashboard: &Dashboard,
    user: &SignedInUser,
    name: &str,
    capabilities: &[&str],
) -> (String, String) {
    let token = csrf(dashboard, user).await;
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("name", name),
        ("expires", "never"),
    ];
    fields.extend(capabilities.iter().map(|c| ("capabilities", *c)));
    let response = post(dashboard, user, "/", &fields).await;
    let slot = redirect(&response).to_string();
    assert!(slot.starts_with("/new?slot="), "{slot}");
    let page = get(dashboard, user, &slot).await;
    assert_eq!(page.status, 200);
    let key = shown_key(&page.body).expect("the key").to_string();
    (slot, key)
}

// ----- signed out, routing, malformed requests ----------------------------------------

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_the_login_page() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    for request in [
        DashboardRequest::get("/"),
        DashboardRequest::get(""),
        DashboardRequest::get("/new").with_query("slot=x"),
        DashboardRequest::post_form("/", b"name=x"),
    ] {
        let response = send(&dashboard, None, request).await;
        assert_eq!(response.status, 303);
        assert_eq!(header(&response, "location"), Some("/login"));
    }
    // A host that hands over no session id has no session to bind a form to.
    let response = send(&dashboard, Some(&u1("")), DashboardRequest::get("/")).await;
    assert_eq!(header(&response, "location"), Some("/login"));
    let elsewhere = dashboard.clone().login_path("/auth/sign-in");
    let response = send(&elsewhere, None, DashboardRequest::get("/")).await;
    assert_eq!(header(&response, "location"), Some("/auth/sign-in"));
    assert!(stored(&rig, "u_1").await.is_empty());
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_bad_bodies_get_a_4xx_page() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let token = csrf(&dashboard, &user).await;

    for path in ["/nope", "/new/", "/a/b/c", "/assets/other.css", "/x/delete"] {
        let response = get(&dashboard, &user, path).await;
        assert_eq!(response.status, 404, "{path}");
        assert!(response.body.contains("Page not found"));
    }

    let wrong_method = [
        ("DELETE", "/", "GET, HEAD, POST"),
        ("PUT", "/new", "GET, HEAD"),
        ("POST", "/new", "GET, HEAD"),
        ("GET", "/AbCd12345678/roll", "POST"),
        ("GET", "/AbCd12345678/disable", "POST"),
        ("POST", "/assets/dashboard.css", "GET, HEAD"),
    ];
    for (method, path, allow) in wrong_method {
        let mut request = DashboardRequest::post_form(path, b"");
        request.method = method;
        let response = send(&dashboard, Some(&user), request).await;
        assert_eq!(response.status, 405, "{method} {path}");
        assert_eq!(header(&response, "allow"), Some(allow));
    }

    let huge = vec![b'a'; MAX_BODY_LEN + 1];
    let response = send(
        &dashboard,
        Some(&user),
        DashboardRequest::post_form("/", &huge),
    )
    .await;
    assert_eq!(response.status, 413);
    // At the limit the body is read (and refused here for its missing token).
    let at_limit = vec![b'a'; MAX_BODY_LEN];
    let response = send(
        &dashboard,
        Some(&user),
        DashboardRequest::post_form("/", &at_limit),
    )
    .await;
    assert_eq!(response.status, 403);

    let body = format!("csrf={token}&name=CI");
    for content_type in [
        None,
        Some(&b"application/json"[..]),
        Some(&b"multipart/form-data; boundary=x"[..]),
    ] {
        let mut request = DashboardRequest::post_form("/", body.as_bytes());
        request.content_type = content_type;
        let response = send(&dashboard, Some(&user), request).await;
        assert_eq!(response.status, 415, "{content_type:?}");
    }

    // Malformed bodies: undecodable escapes, bytes that are not UTF-8, no `=`.
    for junk in [
        &b"%%%"[..],
        &b"name=%ZZ&csrf"[..],
        &[0xff, 0xfe, b'=', 0x80][..],
        &b"&&&==="[..],
    ] {
        let response = send(
            &dashboard,
            Some(&user),
            DashboardRequest::post_form("/", junk),
        )
        .await;
        assert!(
            matches!(response.status, 400 | 403),
            "{junk:?}: {}",
            response.status
        );
    }

    // Unknown and malformed ids, and a cursor naming nothing.
    for path in ["/AbCd12345678/revoke", "/%3Cscript%3E/revoke", "/x/revoke"] {
        assert_eq!(get(&dashboard, &user, path).await.status, 404, "{path}");
        let response = post(&dashboard, &user, path, &[("csrf", &token)]).await;
        assert_eq!(response.status, 404, "{path}");
    }
    for path in ["/AbCd12345678/disable", "/AbCd12345678/enable"] {
        let response = post(&dashboard, &user, path, &[("csrf", &token)]).await;
        assert_eq!(response.status, 404, "{path}");
    }
    let response = post(
        &dashboard,
        &user,
        "/AbCd12345678/roll",
        &[("csrf", &token), ("grace", "0")],
    )
    .await;
    assert_eq!(response.status, 404);
    assert_eq!(get(&dashboard, &user, "/?after=bogus").await.status, 400);
    assert_eq!(
        get(&dashboard, &user, "/?after=AbCd12345678").await.status,
        400
    );
    assert!(stored(&rig, "u_1").await.is_empty());
}

#[tokio::test]
async fn the_assets_are_served_to_anyone_and_cacheable() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let css = send(
        &dashboard,
        None,
        DashboardRequest::get("/assets/dashboard.css"),
    )
    .await;
    assert_eq!(css.status, 200);
    assert_eq!(
        header(&css, "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert!(header(&css, "cache-control").unwrap().contains("max-age="));
    assert!(css.body.contains(".badge-revoked"));
    let js = send(
        &dashboard,
        None,
        DashboardRequest::get("/assets/dashboard.js"),
    )
    .await;
    assert_eq!(js.status, 200);
    assert!(
        header(&js, "content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.body.contains("clipboard") && js.body.contains("confirm("));

    // Pages link them from the mount, with no inline script or style.
    let page = get(&dashboard, &u1("s1"), "/").await;
    assert!(
        page.body
            .contains(r#"href="/settings/api-keys/assets/dashboard.css?v="#)
    );
    assert!(
        page.body
            .contains(r#"src="/settings/api-keys/assets/dashboard.js?v="#)
    );
    assert!(!page.body.contains("style="));
    assert!(!page.body.contains("<style"));
    assert_eq!(page.body.matches("<script").count(), 1);
}

#[test]
fn handle_can_run_on_a_multi_threaded_runtime() {
    fn assert_send<T: Send>(_: &T) {}
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let future = dashboard.handle(DashboardRequest::get("/"), Some(&user), MOUNT);
    assert_send(&future);
}

// ----- the list -----------------------------------------------------------------------

#[tokio::test]
async fn the_list_shows_only_the_users_keys_with_the_test_hooks() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let mine = rig
        .mint(MintRequest::new("Build server", "u_1").capabilities(["jobs:read"]))
        .await;
    rig.clock.advance(Duration::from_secs(1));
    let theirs = rig.mint(MintRequest::new("Nightly", "u_2")).await;
    let mine_id = mine.key.id().to_string();
    let theirs_id = theirs.key.id().to_string();

    let page = get(&dashboard, &u1("s1"), "/").await;
    assert_eq!(page.status, 200);
    let listed = row(&page.body, &mine_id).expect("u_1's key is listed");
    assert!(listed.contains("Build server"));
    assert!(listed.contains(&format!(
        "{}…{}",
        mine.summary.key_prefix, mine.summary.last4
    )));
    assert!(listed.contains("jobs:read"));
    assert!(listed.contains(r#"data-testid="revoke""#));
    assert!(listed.contains(">active<"));
    assert!(listed.contains("2027-01-15 08:00 UTC"), "{listed}");
    assert!(!page.body.contains(&theirs_id));
    assert!(!page.body.contains("Nightly"));
    assert!(
        !page.body.contains(mine.key.expose()),
        "never the key itself"
    );
    assert!(page.body.contains(r#"data-testid="create-key""#));
    assert!(page.body.contains(r#"name="name""#));

    let page = get(&dashboard, &u2("s2"), "/").await;
    assert!(row(&page.body, &theirs_id).is_some());
    assert!(!page.body.contains(&mine_id));
    assert!(!page.body.contains("Build server"));
    assert_eq!(page.body.matches("data-key-id=").count(), 1);
}

#[tokio::test]
async fn the_create_form_offers_only_what_the_user_holds_with_the_defaults_ticked() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let page = get(&dashboard, &u2("s2"), "/").await;
    let offered: Vec<&str> = page
        .body
        .match_indices(r#"type="checkbox" name="capabilities" value=""#)
        .map(|(at, m)| {
            let rest = &page.body[at + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(
        offered,
        ["desktop:chat", "desktop:read", "keys:read", "keys:write"]
    );
    for default in ["desktop:chat", "desktop:read"] {
        assert!(
            page.body
                .contains(&format!(r#"value="{default}" checked>"#)),
            "{default} ticked"
        );
    }
    assert!(page.body.contains(r#"value="keys:write">"#), "not ticked");
    assert!(!page.body.contains(r#"value="jobs:write""#));
    assert!(!page.body.contains(r#"value="desktop:lifecycle""#));
    // Grouped by resource.
    assert!(
        page.body
            .contains(r#"<span class="cap-resource">desktop</span>"#)
    );
    assert!(
        page.body
            .contains(r#"<span class="cap-resource">keys</span>"#)
    );
}

// ----- create and the show-once page --------------------------------------------------

#[tokio::test]
async fn a_new_key_is_shown_once_to_its_session_only() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let token = csrf(&dashboard, &user).await;
    let response = post(
        &dashboard,
        &user,
        "/",
        &[
            ("csrf", &token),
            ("name", "Deploy bot"),
            ("capabilities", "jobs:write"),
            ("expires", "90d"),
        ],
    )
    .await;
    let slot = redirect(&response).to_string();
    assert!(!response.body.contains("sk_live_"));

    // Another session of the same user cannot read it, and does not use it up.
    let other = get(&dashboard, &u1("s1-elsewhere"), &slot).await;
    assert_eq!(other.status, 404);
    assert_eq!(shown_key(&other.body), None);
    assert!(!other.body.contains("sk_live_"));

    let page = get(&dashboard, &user, &slot).await;
    assert_eq!(page.status, 200);
    let key = shown_key(&page.body).expect("the key").to_string();
    assert!(key.starts_with("sk_live_"));
    assert_eq!(
        page.body.matches(&key).count(),
        1,
        "the key appears exactly once"
    );
    assert!(page.body.contains("You will not see it again"));
    assert!(page.body.contains(r#"class="warning""#));
    assert!(page.body.contains("data-copy=\"new-key\""));

    // The key works and holds what was chosen, not the defaults.
    let keys = stored(&rig, "u_1").await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "Deploy bot");
    assert_eq!(keys[0].capabilities, ["jobs:write"]);
    assert!(key.ends_with(&keys[0].last4));
    assert_eq!(
        keys[0].expires_at.unwrap().as_unix_seconds() - keys[0].created_at.as_unix_seconds(),
        90 * 24 * 3600
    );
    let principal = rig
        .keyward
        .authenticator()
        .authenticate(
            keyward::Credential::Key(&key),
            &keyward::scope::Requirement::none(),
            keyward_testing::rig::ip("192.0.2.1"),
        )
        .await
        .expect("the shown key authenticates");
    assert_eq!(principal.owner(), "u_1");

    // A reload shows no key.
    let again = get(&dashboard, &user, &slot).await;
    assert_eq!(again.status, 410);
    assert_eq!(shown_key(&again.body), None);
    assert!(!again.body.contains(&key));
    assert!(again.body.contains("already shown"));

    // The list shows it, masked.
    let list = get(&dashboard, &user, "/").await;
    assert!(row(&list.body, keys[0].id.as_str()).is_some());
    assert!(!list.body.contains(&key));
}

#[tokio::test]
async fn a_slot_expires_after_ten_minutes() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let token = csrf(&dashboard, &user).await;
    let response = post(
        &dashboard,
        &user,
        "/",
        &[("csrf", &token), ("name", "Late"), ("expires", "never")],
    )
    .await;
    let slot = redirect(&response).to_string();
    rig.clock.advance(Duration::from_secs(10 * 60));
    let page = get(&dashboard, &user, &slot).await;
    assert_eq!(page.status, 404);
    assert_eq!(shown_key(&page.body), None);
    assert!(!page.body.contains("sk_live_"));
}

#[tokio::test]
async fn a_head_request_does_not_use_up_a_slot() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let token = csrf(&dashboard, &user).await;
    let response = post(&dashboard, &user, "/", &[("csrf", &token), ("name", "CI")]).await;
    let slot = redirect(&response).to_string();
    let (path, query) = slot.split_once('?').unwrap();
    let mut head = DashboardRequest::get(path).with_query(query);
    head.method = "HEAD";
    let response = send(&dashboard, Some(&user), head).await;
    assert_eq!(response.status, 200);
    assert_eq!(shown_key(&response.body), None);
    let page = get(&dashboard, &user, &slot).await;
    assert!(shown_key(&page.body).is_some());
}

#[tokio::test]
async fn a_capability_the_user_does_not_hold_is_refused() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u2("s2");
    let token = csrf(&dashboard, &user).await;
    for forged in ["jobs:write", "desktop:lifecycle"] {
        let response = post(
            &dashboard,
            &user,
            "/",
            &[
                ("csrf", &token),
                ("name", "Escalation"),
                ("capabilities", "keys:read"),
                ("capabilities", forged),
            ],
        )
        .await;
        assert_eq!(response.status, 403, "{forged}");
        assert!(response.body.contains(forged));
        assert!(response.body.contains("was not created"));
        assert_eq!(shown_key(&response.body), None);
    }
    // A name the catalog does not declare is a 400, also with nothing minted.
    let response = post(
        &dashboard,
        &user,
        "/",
        &[
            ("csrf", &token),
            ("name", "Unknown"),
            ("capabilities", "root:all"),
        ],
    )
    .await;
    assert_eq!(response.status, 400);
    assert!(stored(&rig, "u_2").await.is_empty());
}

#[tokio::test]
async fn a_refused_create_keeps_the_form_and_says_why() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let token = csrf(&dashboard, &user).await;
    let cases: [(FormFields<'_>, u16, &str); 4] = [
        (&[("name", "   ")], 400, "The name is empty"),
        (&[("name", "a\u{202e}b")], 400, "invisible formatting"),
        (
            &[("name", "CI"), ("expires", "forever")],
            400,
            "Choose an expiry",
        ),
        (
            &[("name", "CI"), ("expires", "-1")],
            400,
            "Choose an expiry",
        ),
    ];
    for (fields, status, message) in cases {
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        let response = post(&dashboard, &user, "/", &all).await;
        assert_eq!(response.status, status, "{fields:?}");
        assert!(
            response.body.contains(message),
            "{fields:?}: {}",
            response.body
        );
        assert!(response.body.contains(r#"data-testid="create-key""#));
    }
    let long = "x".repeat(keyward::MAX_KEY_NAME_LEN + 1);
    let response = post(&dashboard, &user, "/", &[("csrf", &token), ("name", &long)]).await;
    assert_eq!(response.status, 400);
    assert!(stored(&rig, "u_1").await.is_empty());

    // The refused form keeps the name and the ticked capabilities.
    let response = post(
        &dashboard,
        &user,
        "/",
        &[
            ("csrf", &token),
            ("name", "Keep me"),
            ("capabilities", "kb:read"),
            ("expires", "nope"),
        ],
    )
    .await;
    assert!(response.body.contains(r#"value="Keep me""#));
    assert!(response.body.contains(r#"value="kb:read" checked>"#));
    assert!(!response.body.contains(r#"value="desktop:read" checked>"#));
}

// ----- CSRF ---------------------------------------------------------------------------

#[tokio::test]
async fn a_post_without_the_sessions_csrf_token_is_refused() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let existing = rig.mint(MintRequest::new("Keep", "u_1")).await;
    let id = existing.key.id().to_string();
    let other_sessions = csrf(&dashboard, &u1("s-other")).await;
    let other_dashboards = csrf(&Dashboard::new(&rig.keyward), &user).await;
    let own = csrf(&dashboard, &user).await;
    let tokens: [Option<&str>; 5] = [
        None,
        Some(""),
        Some("not-a-token"),
        Some(&other_sessions),
        Some(&other_dashboards),
    ];
    for token in tokens {
        let with_token = |mut fields: Vec<(&'static str, String)>| {
            if let Some(token) = token {
                fields.push(("csrf", token.to_string()));
            }
            fields
        };
        let requests = [
            ("/".to_string(), with_token(vec![("name", "CSRF".into())])),
            (format!("/{id}/revoke"), with_token(vec![])),
            (format!("/{id}/disable"), with_token(vec![])),
            (
                format!("/{id}/roll"),
                with_token(vec![("grace", "0".into())]),
            ),
        ];
        for (path, fields) in requests {
            let body = serde_urlencoded::to_string(&fields).unwrap();
            let response = send(
                &dashboard,
                Some(&user),
                DashboardRequest::post_form(&path, body.as_bytes()),
            )
            .await;
            assert_eq!(response.status, 403, "{path} with {token:?}");
            assert!(response.body.contains("expired"));
        }
    }
    assert_ne!(own, other_sessions);
    let keys = stored(&rig, "u_1").await;
    assert_eq!(keys.len(), 1, "nothing minted");
    assert_eq!(keys[0].state, KeyState::Active, "nothing changed");
    assert_eq!(keys[0].replaced_by, None);

    // Several instances sharing a secret accept each other's forms.
    let a = Dashboard::new(&rig.keyward).csrf_secret([9; 32]);
    let b = Dashboard::new(&rig.keyward).csrf_secret([9; 32]);
    let token = csrf(&a, &user).await;
    let response = post(&b, &user, &format!("/{id}/disable"), &[("csrf", &token)]).await;
    assert_eq!(redirect(&response), "/?done=disabled");
}

// ----- escaping -----------------------------------------------------------------------

#[tokio::test]
async fn what_the_user_typed_is_rendered_as_text() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let name = "<script>alert(1)</script>";
    let (_, key) = create(&dashboard, &user, name, &["kb:read"]).await;
    assert!(key.starts_with("sk_live_"));
    let list = get(&dashboard, &user, "/").await;
    assert!(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!list.body.contains(name));
    let id = stored(&rig, "u_1").await[0].id.to_string();
    let confirm = get(&dashboard, &user, &format!("/{id}/revoke")).await;
    assert!(
        confirm
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(!confirm.body.contains(name));

    // An attribute cannot be broken out of either.
    let token = csrf(&dashboard, &user).await;
    let quote = r#"x" onfocus="alert(1)"#;
    let response = post(
        &dashboard,
        &user,
        "/",
        &[("csrf", &token), ("name", quote), ("expires", "bad")],
    )
    .await;
    assert!(
        response
            .body
            .contains(r#"value="x&quot; onfocus=&quot;alert(1)""#)
    );
    assert!(!response.body.contains(quote));
}

// ----- revoke, roll, disable, enable --------------------------------------------------

#[tokio::test]
async fn revoke_asks_first_then_lists_the_key_as_revoked() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let minted = rig.mint(MintRequest::new("Old laptop", "u_1")).await;
    let id = minted.key.id().to_string();

    let confirm = get(&dashboard, &user, &format!("/{id}/revoke")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Old laptop"));
    assert!(confirm.body.contains(r#"data-testid="confirm-revoke""#));
    assert!(
        confirm
            .body
            .contains(&format!(r#"action="/settings/api-keys/{id}/revoke""#))
    );
    assert_eq!(stored(&rig, "u_1").await[0].state, KeyState::Active);

    let token = csrf(&dashboard, &user).await;
    let response = post(
        &dashboard,
        &user,
        &format!("/{id}/revoke"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(redirect(&response), "/?done=revoked");
    let list = get(&dashboard, &user, "/?done=revoked").await;
    assert!(list.body.contains("Key revoked."));
    let listed = row(&list.body, &id).expect("a revoked key stays listed");
    assert!(listed.contains(">revoked<"));
    assert!(!listed.contains(r#"data-testid="revoke""#));
    assert_eq!(stored(&rig, "u_1").await[0].state, KeyState::Revoked);

    let again = get(&dashboard, &user, &format!("/{id}/revoke")).await;
    assert_eq!(again.status, 409);
    assert!(!again.body.contains("confirm-revoke"));
}

#[tokio::test]
async fn another_users_key_cannot_be_touched() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let theirs = rig.mint(MintRequest::new("u_1's", "u_1")).await;
    let id = theirs.key.id().to_string();
    let user = u2("s2");
    let token = csrf(&dashboard, &user).await;
    assert_eq!(
        get(&dashboard, &user, &format!("/{id}/revoke"))
            .await
            .status,
        404
    );
    for action in ["revoke", "disable", "enable", "roll"] {
        let response = post(
            &dashboard,
            &user,
            &format!("/{id}/{action}"),
            &[("csrf", &token), ("grace", "0")],
        )
        .await;
        assert_eq!(response.status, 404, "{action}");
        assert!(!response.body.contains("u_1's"));
    }
    let key = &stored(&rig, "u_1").await[0];
    assert_eq!(key.state, KeyState::Active);
    assert_eq!(key.replaced_by, None);
}

#[tokio::test]
async fn roll_shows_the_replacement_once_and_lists_the_old_key_as_rolled() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let (_, old_key) = create(&dashboard, &user, "Service", &["jobs:read"]).await;
    let old_id = stored(&rig, "u_1").await[0].id.to_string();

    let list = get(&dashboard, &user, "/").await;
    let listed = row(&list.body, &old_id).unwrap();
    assert!(listed.contains(r#"name="grace""#));
    for grace in ["0", "3600", "86400", "604800"] {
        assert!(listed.contains(&format!(r#"value="{grace}""#)), "{grace}");
    }

    let token = csrf(&dashboard, &user).await;
    let response = post(
        &dashboard,
        &user,
        &format!("/{old_id}/roll"),
        &[("csrf", &token), ("grace", "3600")],
    )
    .await;
    let slot = redirect(&response).to_string();
    assert!(slot.starts_with("/new?slot="));
    let page = get(&dashboard, &user, &slot).await;
    let new_key = shown_key(&page.body).expect("the replacement").to_string();
    assert_ne!(new_key, old_key);
    assert!(page.body.contains("replacement"));
    assert!(
        page.body.contains("2027-01-15 09:00 UTC"),
        "the old key's end"
    );

    let keys = stored(&rig, "u_1").await;
    assert_eq!(keys.len(), 2);
    let new_id = keys.iter().find(|k| k.id.as_str() != old_id).unwrap().id;
    assert!(new_key.ends_with(&keys.iter().find(|k| k.id == new_id).unwrap().last4));
    assert_eq!(keys[0].capabilities, keys[1].capabilities);

    let list = get(&dashboard, &user, "/").await;
    let old_row = row(&list.body, &old_id).unwrap();
    assert!(old_row.contains(">rolled<"));
    assert!(
        !old_row.contains(r#"name="grace""#),
        "a rolled key rolls no more"
    );
    assert!(
        row(&list.body, new_id.as_str())
            .unwrap()
            .contains(">active<")
    );

    // Rolling it again (a forged form) is a conflict, not a second replacement.
    let response = post(
        &dashboard,
        &user,
        &format!("/{old_id}/roll"),
        &[("csrf", &token), ("grace", "0")],
    )
    .await;
    assert_eq!(response.status, 409);
    assert_eq!(stored(&rig, "u_1").await.len(), 2);
}

#[tokio::test]
async fn bad_grace_values_are_refused() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let minted = rig.mint(MintRequest::new("Svc", "u_1")).await;
    let id = minted.key.id().to_string();
    let token = csrf(&dashboard, &user).await;
    for grace in [
        None,
        Some(""),
        Some("-1"),
        Some("1h"),
        Some("99999999999999999999999"),
        Some("18446744073709551615"),
        Some("604801"),
    ] {
        let mut fields = vec![("csrf", token.as_str())];
        if let Some(grace) = grace {
            fields.push(("grace", grace));
        }
        let response = post(&dashboard, &user, &format!("/{id}/roll"), &fields).await;
        assert_eq!(response.status, 400, "{grace:?}");
    }
    let keys = stored(&rig, "u_1").await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].replaced_by, None);
}

#[tokio::test]
async fn disable_and_enable() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let minted = rig.mint(MintRequest::new("Svc", "u_1")).await;
    let id = minted.key.id().to_string();
    let token = csrf(&dashboard, &user).await;

    let response = post(
        &dashboard,
        &user,
        &format!("/{id}/disable"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(redirect(&response), "/?done=disabled");
    let list = get(&dashboard, &user, "/?done=disabled").await;
    let listed = row(&list.body, &id).unwrap();
    assert!(listed.contains(">disabled<"));
    assert!(listed.contains(r#"data-testid="enable""#));
    assert!(!listed.contains(r#"data-testid="disable""#));
    assert_eq!(stored(&rig, "u_1").await[0].state, KeyState::Disabled);

    let response = post(
        &dashboard,
        &user,
        &format!("/{id}/enable"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(redirect(&response), "/?done=enabled");
    let list = get(&dashboard, &user, "/").await;
    let listed = row(&list.body, &id).unwrap();
    assert!(listed.contains(">active<"));
    assert!(listed.contains(r#"data-testid="disable""#));
    assert_eq!(stored(&rig, "u_1").await[0].state, KeyState::Active);
}

#[tokio::test]
async fn a_key_holding_more_than_the_user_can_be_seen_but_not_changed() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    // Minted for u_2 by an operator with a capability u_2 does not hold.
    let minted = rig
        .mint(MintRequest::new("Ops", "u_2").capabilities(["jobs:write"]))
        .await;
    let id = minted.key.id().to_string();
    let user = u2("s2");
    let token = csrf(&dashboard, &user).await;
    let response = post(
        &dashboard,
        &user,
        &format!("/{id}/disable"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(response.status, 403);
    assert!(response.body.contains("jobs:write"));
    assert_eq!(stored(&rig, "u_2").await[0].state, KeyState::Active);
}

#[tokio::test]
async fn a_tenant_admin_sees_the_owner_of_each_key() {
    use keyward::store::Tenant;
    let rig = rig();
    let admin_requirement = catalog().all_of(["desktop:control"]).unwrap();
    let dashboard = dashboard(&rig).tenant_admin(admin_requirement);
    let acme = Tenant::new("acme", "search");
    rig.mint(MintRequest::new("Member's", "u_2").tenant(acme.clone()))
        .await;
    let admin = u1("s1").in_tenant(acme);
    let page = get(&dashboard, &admin, "/").await;
    assert!(page.body.contains("Member&#39;s") || page.body.contains("Member's"));
    assert!(page.body.contains(">Owner<"));
    assert!(page.body.contains(">u_2<"));
    assert!(
        !page.body.contains(r#"name="grace""#),
        "another owner's key does not roll"
    );
}

#[tokio::test]
async fn the_title_and_mount_are_the_hosts() {
    let rig = rig();
    let dashboard = dashboard(&rig).title("Developer <keys>");
    let user = u1("s1");
    let response = dashboard
        .handle(DashboardRequest::get("/"), Some(&user), "/org/acme/keys/")
        .await;
    assert_secure(&response);
    assert!(response.body.contains("<h1>Developer &lt;keys&gt;</h1>"));
    assert!(response.body.contains(r#"action="/org/acme/keys/""#));
}

#[tokio::test]
async fn an_expired_key_is_listed_as_expired() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let minted = rig
        .mint(MintRequest::new("Short-lived", "u_1").expires_in(Duration::from_secs(3600)))
        .await;
    let id = minted.key.id().to_string();
    let user = u1("s1");
    let list = get(&dashboard, &user, "/").await;
    let listed = row(&list.body, &id).unwrap();
    assert!(listed.contains(">active<"));
    assert!(
        listed.contains(r#"title="2027-01-15 09:00 UTC""#),
        "{listed}"
    );

    rig.clock.advance(Duration::from_secs(2 * 3600));
    let list = get(&dashboard, &user, "/").await;
    let listed = row(&list.body, &id).unwrap();
    assert!(listed.contains(">expired<"));
    assert!(
        !listed.contains(r#"name="grace""#),
        "an expired key does not roll"
    );
    assert!(listed.contains(r#"data-testid="revoke""#));
}

#[tokio::test]
async fn the_create_form_mints_a_honeytoken_that_the_list_marks() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let page = get(&dashboard, &user, "/").await;
    assert!(
        page.body.contains(r#"name="honeytoken""#),
        "a honeytoken checkbox"
    );

    let token = csrf(&dashboard, &user).await;
    let fields = [
        ("csrf", token.as_str()),
        ("name", "decoy"),
        ("expires", "never"),
        ("capabilities", "jobs:read"),
        ("honeytoken", "on"),
    ];
    let response = post(&dashboard, &user, "/", &fields).await;
    redirect(&response);
    let (_, _) = create(&dashboard, &user, "real", &["jobs:read"]).await;

    let keys = stored(&rig, "u_1").await;
    let decoy = keys.iter().find(|k| k.name == "decoy").unwrap();
    let real = keys.iter().find(|k| k.name == "real").unwrap();
    assert!(decoy.honeytoken);
    assert!(!real.honeytoken);

    let page = get(&dashboard, &user, "/").await;
    let decoy_row = row(&page.body, decoy.id.as_str()).unwrap();
    assert!(
        decoy_row.contains(r#"data-testid="honeytoken""#),
        "{decoy_row}"
    );
    let real_row = row(&page.body, real.id.as_str()).unwrap();
    assert!(!real_row.contains("honeytoken"), "{real_row}");
}
