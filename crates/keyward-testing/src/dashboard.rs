//! The API-keys settings page of an example server, walked through in a real browser:
//! what both example servers must pass.
//!
//! [`walkthrough`] signs in as the demo's `u_1`, creates keys through the page and uses
//! them over HTTP, revokes one through the page, and checks what a person relies on:
//! the key is shown once, forms without the CSRF token are refused, a name is text and
//! never markup, and `u_2` sees none of `u_1`'s keys. With `KEYWARD_SCREENSHOTS=<dir>`
//! it saves `dashboard-list.png` and `dashboard-new-key.png` there.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::{Browser, click, step};
use crate::client::{self, Response};

/// Where the example servers mount the dashboard.
pub const MOUNT: &str = "/settings/api-keys";

/// The example servers' session cookie.
pub const SESSION_COOKIE: &str = "keyward_demo_session";

/// How long the whole walkthrough may take.
pub const WALKTHROUGH_TIMEOUT: Duration = Duration::from_secs(300);

const CREATE_FORM: &str = "form[data-testid=create-key]";
const CAPABILITY_BOXES: &str =
    "form[data-testid=create-key] input[type=checkbox][name=capabilities]";
const NEW_KEY: &str = "[data-testid=new-key]";
const SCRIPT_NAME: &str = "<script>alert(1)</script>";

/// A key created through the page.
struct Created {
    id: String,
    key: String,
    /// The capabilities ticked when the form was sent.
    chosen: BTreeSet<String>,
}

/// Every flow of the settings page, against the example server at `addr`, in `browser`.
///
/// # Panics
///
/// When the page or the API does not behave as described, when a step takes longer
/// than [`crate::browser::STEP_TIMEOUT`], or the whole longer than
/// [`WALKTHROUGH_TIMEOUT`].
pub async fn walkthrough(browser: &Browser, addr: SocketAddr) {
    tokio::time::timeout(WALKTHROUGH_TIMEOUT, flows(browser, addr))
        .await
        .unwrap_or_else(|_| {
            panic!("the settings page walkthrough took longer than {WALKTHROUGH_TIMEOUT:?}")
        });
}

async fn flows(b: &Browser, addr: SocketAddr) {
    // Signed out, the page sends the visitor to sign in.
    b.goto(&list_url(addr)).await;
    sign_in(b, "u_1").await;
    offers_every_capability_of_u_1(b).await;

    let reader = create_and_use(b, addr).await;
    shown_once(b, &reader.key).await;
    listed_without_the_key(b, addr, &reader).await;
    refused_without_csrf(b, addr, &reader).await;

    let deploy = create(b, addr, "Deploy bot", &["jobs:write"], &["desktop:chat"]).await;
    assert_eq!(me(addr, &deploy.key).await.status, 200);
    revoke_through_the_page(b, addr, &reader).await;
    list_screenshot(b, addr).await;

    names_are_text(b, addr).await;
    others_see_nothing(b, addr, &deploy).await;
}

/// On the sign-in page: picks `user`, submits, and lands on the list.
async fn sign_in(b: &Browser, user: &str) {
    b.wait_for_path("the sign-in page", |p| p == "/login").await;
    let field = b.find("form[data-testid=login] [name=user]").await;
    let tag = step("read the user field", field.tag_name())
        .await
        .expect("the user field's tag");
    match tag.to_ascii_lowercase().as_str() {
        "select" => step("pick the user", field.select_by_value(user))
            .await
            .unwrap_or_else(|e| panic!("pick {user}: {e}")),
        _ => {
            let radio = format!("form[data-testid=login] [name=user][value=\"{user}\"]");
            let choices = b.find_all(&radio).await;
            match choices.first() {
                Some(choice) => click(choice, &radio).await,
                None => step("type the user", field.send_keys(user))
                    .await
                    .unwrap_or_else(|e| panic!("type {user}: {e}")),
            }
        }
    }
    b.click("form[data-testid=login] [type=submit]").await;
    b.wait_for_path("the list after signing in", is_list).await;
    b.find(CREATE_FORM).await;
}

fn list_url(addr: SocketAddr) -> String {
    format!("http://{addr}{MOUNT}")
}

fn is_list(path: &str) -> bool {
    path == MOUNT || path.strip_prefix(MOUNT) == Some("/")
}

/// The capabilities the create form offers, and those ticked.
async fn offered(b: &Browser) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut all = BTreeSet::new();
    let mut ticked = BTreeSet::new();
    for checkbox in b.find_all(CAPABILITY_BOXES).await {
        let value = step("read a checkbox", checkbox.attr("value"))
            .await
            .expect("a checkbox's value")
            .expect("every capability checkbox has a value");
        if step("read a checkbox", checkbox.is_selected())
            .await
            .expect("a checkbox's state")
        {
            ticked.insert(value.clone());
        }
        all.insert(value);
    }
    (all, ticked)
}

/// u_1 holds every capability of the demo: all are offered, the defaults ticked.
async fn offers_every_capability_of_u_1(b: &Browser) {
    let demo = keyward::ConfigFile::demo();
    let catalog = demo.catalog();
    let names =
        |set| -> BTreeSet<String> { catalog.names(&set).into_iter().map(str::to_owned).collect() };
    let (all, ticked) = offered(b).await;
    assert_eq!(all, names(catalog.all()), "u_1 is offered every capability");
    assert_eq!(
        ticked,
        names(catalog.default_set()),
        "the default grants are ticked"
    );
}

/// Fills the create form on the list: `name`, ticking `tick` and unticking `untick`,
/// sends it, and reads the key off the show-once page.
async fn create(
    b: &Browser,
    addr: SocketAddr,
    name: &str,
    tick: &[&str],
    untick: &[&str],
) -> Created {
    if !is_list(&b.path().await) {
        b.goto(&list_url(addr)).await;
    }
    let name_field = b.find(&format!("{CREATE_FORM} input[name=name]")).await;
    step("type the name", async {
        name_field.clear().await?;
        name_field.send_keys(name).await
    })
    .await
    .unwrap_or_else(|e| panic!("type the name {name:?}: {e}"));
    for checkbox in b.find_all(CAPABILITY_BOXES).await {
        let value = step("read a checkbox", checkbox.attr("value"))
            .await
            .expect("a checkbox's value")
            .unwrap_or_default();
        let ticked = step("read a checkbox", checkbox.is_selected())
            .await
            .expect("a checkbox's state");
        let want = tick.contains(&value.as_str());
        let unwant = untick.contains(&value.as_str());
        if (want && !ticked) || (unwant && ticked) {
            click(&checkbox, &format!("the {value} checkbox")).await;
        }
    }
    let (_, chosen) = offered(b).await;
    for capability in tick {
        assert!(chosen.contains(*capability), "{capability} is ticked");
    }
    b.click(&format!("{CREATE_FORM} button[type=submit]")).await;
    b.wait_for_path("the show-once page", |p| {
        p.strip_prefix(MOUNT) == Some("/new")
    })
    .await;
    let key = b.text(NEW_KEY).await;
    assert!(
        key.starts_with("sk_live_") && !key.contains(char::is_whitespace),
        "the page shows exactly the key: {key:?}"
    );
    let text = b.page_text().await;
    assert!(
        text.to_lowercase().contains("not see it again"),
        "the page warns the key is shown once: {text}"
    );
    let answer = me(addr, &key).await;
    assert_eq!(answer.status, 200, "the new key works: {}", answer.body);
    let id = answer.json()["key"]["id"]
        .as_str()
        .expect("GET /v1/me names the key")
        .to_owned();
    Created { id, key, chosen }
}

async fn me(addr: SocketAddr, key: &str) -> Response {
    client::with_key(addr, "GET", "/v1/me", key, "").await
}

/// A key with `jobs:read` added to the defaults acts with exactly those capabilities.
async fn create_and_use(b: &Browser, addr: SocketAddr) -> Created {
    let reader = create(b, addr, "CI reader", &["jobs:read"], &[]).await;
    b.screenshot_if_asked("dashboard-new-key.png").await;
    let answer = me(addr, &reader.key).await;
    let granted: BTreeSet<String> = answer.json()["key"]["capabilities"]
        .as_array()
        .expect("the key's capabilities")
        .iter()
        .map(|c| c.as_str().expect("a capability name").to_owned())
        .collect();
    assert_eq!(granted, reader.chosen, "the key holds what was ticked");
    assert!(granted.contains("jobs:read"));
    assert_eq!(answer.json()["key"]["name"], json!("CI reader"));
    assert_eq!(answer.json()["user_id"], json!("u_1"));
    reader
}

/// Reloading the show-once page shows no key.
async fn shown_once(b: &Browser, key: &str) {
    b.refresh().await;
    assert!(
        b.path().await.ends_with("/new"),
        "the reload stays on the page"
    );
    b.find("body").await;
    assert!(
        !b.exists(NEW_KEY).await,
        "a reloaded show-once page shows no key"
    );
    assert!(
        !b.source().await.contains(key),
        "the key is nowhere in the reloaded page"
    );
}

/// The list shows the key by its prefix and last four characters, active, never whole.
async fn listed_without_the_key(b: &Browser, addr: SocketAddr, created: &Created) {
    b.goto(&list_url(addr)).await;
    let row = format!("[data-key-id=\"{}\"]", created.id);
    let text = b.text(&row).await;
    assert!(text.contains("CI reader"), "the row names the key: {text}");
    assert!(text.contains("active"), "the new key is active: {text}");
    let last4 = &created.key[created.key.len() - 4..];
    assert!(text.contains(last4), "the row shows the last four: {text}");
    assert!(
        !b.source().await.contains(&created.key),
        "the list never holds a whole key"
    );
}

/// A form POST without the session's CSRF token (or with another) is 403 and changes
/// nothing; with it, the same request is accepted. The cookie alone never calls the API.
async fn refused_without_csrf(b: &Browser, addr: SocketAddr, reader: &Created) {
    let session = b
        .cookie(SESSION_COOKIE)
        .await
        .expect("signing in set the session cookie");
    let cookie = format!("{SESSION_COOKIE}={session}");
    let form = b.find(CREATE_FORM).await;
    let action = step("read the form's action", form.attr("action"))
        .await
        .expect("the form's action")
        .expect("the create form has an action");
    let token = b
        .find(&format!("{CREATE_FORM} input[type=hidden][name=csrf]"))
        .await;
    let token = step("read the CSRF token", token.attr("value"))
        .await
        .expect("the token")
        .expect("the token has a value");
    assert!(!token.is_empty());

    let create = "name=no+token&capabilities=jobs%3Aread&expires=never";
    let answer = post_form(addr, &action, &cookie, create).await;
    assert_eq!(answer.status, 403, "a create without the token: {answer:?}");
    let other = if token.starts_with('A') { "B" } else { "A" };
    let wrong = format!("{create}&csrf={other}{}", &token[1..]);
    let answer = post_form(addr, &action, &cookie, &wrong).await;
    assert_eq!(
        answer.status, 403,
        "a create with a wrong token: {answer:?}"
    );
    let revoke = format!("{MOUNT}/{}/revoke", reader.id);
    let answer = post_form(addr, &revoke, &cookie, "").await;
    assert_eq!(answer.status, 403, "a revoke without the token: {answer:?}");
    assert_eq!(
        me(addr, &reader.key).await.status,
        200,
        "the refused revoke left the key working"
    );

    let accepted =
        format!("name=Nightly+export&capabilities=desktop%3Aread&expires=never&csrf={token}");
    let answer = post_form(addr, &action, &cookie, &accepted).await;
    assert_eq!(
        answer.status, 303,
        "the same create with the token: {answer:?}"
    );
    assert!(
        answer
            .header("location")
            .is_some_and(|l| l.contains("/new")),
        "a create leads to the show-once page: {answer:?}"
    );
    assert!(
        !answer.body.contains("sk_live_"),
        "the redirect carries no key"
    );

    let answer = client::request(addr, "GET", "/v1/me", &[("cookie", &cookie)], "").await;
    assert_eq!(answer.status, 401, "a session cookie is no API credential");
    assert_eq!(answer.error(), "missing_credential");

    b.refresh().await;
    let text = b.page_text().await;
    assert!(text.contains("Nightly export"), "{text}");
    assert!(
        !text.contains("no token"),
        "the refused creates made no key: {text}"
    );
}

async fn post_form(addr: SocketAddr, path: &str, cookie: &str, body: &str) -> Response {
    client::request(
        addr,
        "POST",
        path,
        &[
            ("cookie", cookie),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        body,
    )
    .await
}

/// Revoke from the list, confirm, and the row says `revoked`; the key stops working.
async fn revoke_through_the_page(b: &Browser, addr: SocketAddr, key: &Created) {
    b.goto(&list_url(addr)).await;
    let row = format!("[data-key-id=\"{}\"]", key.id);
    b.click(&format!("{row} [data-testid=revoke]")).await;
    b.accept_dialog().await;
    let confirmation = format!("{MOUNT}/{}/revoke", key.id);
    b.wait_for_path("the revoke confirmation", |p| p == confirmation)
        .await;
    assert_eq!(
        me(addr, &key.key).await.status,
        200,
        "the confirmation page alone revokes nothing"
    );
    b.click("[data-testid=confirm-revoke]").await;
    b.accept_dialog().await;
    b.wait_for_path("the list after revoking", is_list).await;
    let text = b.text(&row).await;
    assert!(text.contains("revoked"), "the row says revoked: {text}");
    assert!(
        !b.exists(&format!("{row} [data-testid=revoke]")).await,
        "a revoked key offers no second revoke"
    );
    let answer = me(addr, &key.key).await;
    assert_eq!(answer.status, 401, "a revoked key is refused");
    assert_eq!(answer.error(), "key_revoked");
}

/// `dashboard-list.png`: the whole list page, the window stretched to its height.
async fn list_screenshot(b: &Browser, addr: SocketAddr) {
    if crate::browser::screenshots_dir().is_none() {
        return;
    }
    if !is_list(&b.path().await) {
        b.goto(&list_url(addr)).await;
    }
    let height = b
        .execute("return document.documentElement.scrollHeight;", Vec::new())
        .await
        .as_u64()
        .unwrap_or(900)
        .clamp(900, 2400);
    let resize = |h: u64| async move {
        let h = u32::try_from(h).unwrap_or(900);
        step("resize the window", b.client().set_window_size(1280, h))
            .await
            .unwrap_or_else(|e| panic!("resize the window: {e}"));
    };
    // The window's frame takes part of its size: grow until the page fits.
    resize(height).await;
    let inner = b
        .execute("return window.innerHeight;", Vec::new())
        .await
        .as_u64()
        .unwrap_or(height);
    if inner < height {
        resize(height + (height - inner)).await;
    }
    b.screenshot_if_asked("dashboard-list.png").await;
    resize(900).await;
}

/// A key named like markup is shown as text, on the show-once page and in the list.
async fn names_are_text(b: &Browser, addr: SocketAddr) {
    create(b, addr, SCRIPT_NAME, &[], &[]).await;
    markup_is_text(b, "the show-once page").await;
    b.goto(&list_url(addr)).await;
    markup_is_text(b, "the list").await;
}

async fn markup_is_text(b: &Browser, page: &str) {
    assert_eq!(b.dialog().await, None, "no dialog opened on {page}");
    let text = b.page_text().await;
    assert!(
        text.contains(SCRIPT_NAME),
        "{page} shows the name as typed: {text}"
    );
    let injected = b
        .execute(
            "return Array.from(document.querySelectorAll('script'))\
                 .some(s => s.textContent.includes('alert(1)'));",
            Vec::new(),
        )
        .await;
    assert_eq!(
        injected,
        Value::Bool(false),
        "{page} holds no injected script"
    );
}

/// After u_1 signs out, u_2 signs in and sees none of u_1's keys, and cannot reach one
/// by its URL.
async fn others_see_nothing(b: &Browser, addr: SocketAddr, u1_key: &Created) {
    b.goto(&list_url(addr)).await;
    let u1_ids = key_ids(b).await;
    assert!(u1_ids.len() >= 4, "u_1 has its keys listed: {u1_ids:?}");
    let u1_session = b.cookie(SESSION_COOKIE).await.expect("u_1's session");
    let u1_cookie = format!("{SESSION_COOKIE}={u1_session}");

    let answer = client::request(addr, "POST", "/logout", &[("cookie", &u1_cookie)], "").await;
    assert_eq!(answer.status, 303, "signing out: {answer:?}");
    let answer = client::request(addr, "GET", MOUNT, &[("cookie", &u1_cookie)], "").await;
    assert_eq!(answer.status, 303, "an ended session is signed out");
    assert_eq!(answer.header("location"), Some("/login"));

    b.goto(&list_url(addr)).await;
    sign_in(b, "u_2").await;
    let u2_session = b.cookie(SESSION_COOKIE).await.expect("u_2's session");
    assert_ne!(u2_session, u1_session, "a new session for u_2");
    let u2_ids = key_ids(b).await;
    assert!(
        u2_ids.is_disjoint(&u1_ids),
        "u_2 sees none of u_1's keys: {u2_ids:?}"
    );
    let source = b.source().await;
    for name in ["CI reader", "Deploy bot", "Nightly export", "alert(1)"] {
        assert!(
            !source.contains(name),
            "u_2's page names none of u_1's keys ({name})"
        );
    }
    let (all, _) = offered(b).await;
    for held in ["desktop:read", "desktop:chat", "keys:read", "keys:write"] {
        assert!(all.contains(held), "u_2 is offered {held}: {all:?}");
    }
    for not_held in ["jobs:write", "desktop:lifecycle"] {
        assert!(
            !all.contains(not_held),
            "u_2 is not offered {not_held}: {all:?}"
        );
    }

    // u_1's key by its URL: not u_2's to see or revoke.
    let u2_cookie = format!("{SESSION_COOKIE}={u2_session}");
    let confirm = format!("{MOUNT}/{}/revoke", u1_key.id);
    let answer = client::request(addr, "GET", &confirm, &[("cookie", &u2_cookie)], "").await;
    assert_eq!(
        answer.status, 404,
        "u_1's key is not found for u_2: {}",
        answer.body
    );
    assert!(!answer.body.contains("Deploy bot"));
    let token = b
        .find(&format!("{CREATE_FORM} input[type=hidden][name=csrf]"))
        .await;
    let token = step("read the CSRF token", token.attr("value"))
        .await
        .expect("the token")
        .expect("the token has a value");
    let answer = post_form(addr, &confirm, &u2_cookie, &format!("csrf={token}")).await;
    assert_eq!(
        answer.status, 404,
        "u_2 cannot revoke u_1's key: {}",
        answer.body
    );
    assert_eq!(
        me(addr, &u1_key.key).await.status,
        200,
        "u_1's key still works"
    );
}

/// The `data-key-id` of every listed key.
async fn key_ids(b: &Browser) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for row in b.find_all("[data-key-id]").await {
        let id = step("read a key id", row.attr("data-key-id"))
            .await
            .expect("a row's key id")
            .expect("a key id");
        ids.insert(id);
    }
    ids
}
