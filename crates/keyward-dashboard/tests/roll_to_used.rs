//! The usage page and "Roll to used capabilities", driven through `Dashboard::handle`
//! as a mount drives it: a key's recorded use, and a roll that narrows the key to it
//! and shows the replacement once.

mod common;

use common::{MOUNT, csrf_in, dashboard, header, post, shown_key, u1};
use keyward::http::HttpResponse;
use keyward::scope::Requirement;
use keyward::{Credential, MintRequest};
use keyward_dashboard::{Dashboard, SignedInUser};
use keyward_testing::rig::{Rig, catalog, ip, rig};

/// GET `path` for `user`; a page is never stored.
async fn get(dashboard: &Dashboard, user: &SignedInUser, path: &str) -> HttpResponse {
    let response = common::get(dashboard, user, path).await;
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    response
}

/// The chips of the `[data-testid=testid]` list on a usage page.
fn chips(body: &str, testid: &str) -> Vec<String> {
    let Some(start) = body.find(&format!(r#"data-testid="{testid}""#)) else {
        return Vec::new();
    };
    let rest = &body[start..];
    let list = &rest[..rest.find("</ul>").unwrap_or(rest.len())];
    list.split(r#"<li class="chip">"#)
        .skip(1)
        .map(|chip| chip[..chip.find("</li>").unwrap()].to_string())
        .collect()
}

async fn authenticate(rig: &Rig, key: &str, requirement: &Requirement) {
    rig.keyward
        .authenticator()
        .authenticate(Credential::Key(key), requirement, ip("192.0.2.1"))
        .await
        .expect("the key authenticates");
}

#[tokio::test]
async fn roll_to_used_capabilities_shows_a_narrower_key_once() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let minted = rig
        .mint(MintRequest::new("Deploy bot", "u_1").capabilities(["jobs:write", "kb:read"]))
        .await;
    let id = minted.key.id().to_string();
    let key = minted.key.expose().to_owned();
    // Its requests used jobs:read alone (not yet flushed: this process's use counts).
    authenticate(&rig, &key, &catalog().all_of(["jobs:read"]).unwrap()).await;

    let list = get(&dashboard, &user, "/").await;
    assert!(
        list.body
            .contains(&format!(r#"href="{MOUNT}/{id}/usage" data-testid="usage""#)),
        "the key's row links to its usage"
    );
    let page = get(&dashboard, &user, &format!("/{id}/usage")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(chips(&page.body, "granted"), ["jobs:write", "kb:read"]);
    assert_eq!(chips(&page.body, "used"), ["jobs:read"]);
    assert_eq!(chips(&page.body, "suggested"), ["jobs:read"]);
    assert!(page.body.contains(r#"data-testid="roll-to-used""#));

    let response = post(
        &dashboard,
        &user,
        &format!("/{id}/roll-to-used"),
        &[("csrf", &csrf_in(&page)), ("grace", "3600")],
    )
    .await;
    assert_eq!(response.status, 303, "{}", response.body);
    let location = header(&response, "location").unwrap();
    let slot = location.strip_prefix(MOUNT).unwrap().to_owned();
    assert!(slot.starts_with("/new?slot="), "{slot}");
    let shown = get(&dashboard, &user, &slot).await;
    let new = shown_key(&shown.body).expect("the replacement").to_owned();
    assert!(shown.body.contains("Your replacement key"));
    assert!(shown.body.contains("The old key keeps working until"));
    assert_eq!(
        get(&dashboard, &user, &slot).await.status,
        410,
        "shown once"
    );

    // The replacement holds only what was used; the old key works through its grace.
    let principal = rig
        .keyward
        .authenticator()
        .authenticate(Credential::Key(&new), &Requirement::none(), ip("192.0.2.1"))
        .await
        .unwrap();
    assert_eq!(principal.granted(), ["jobs:read"]);
    authenticate(&rig, &key, &catalog().all_of(["kb:read"]).unwrap()).await;
}

#[tokio::test]
async fn a_key_with_no_recorded_use_offers_no_roll_and_refuses_one() {
    let rig = rig();
    let dashboard = dashboard(&rig);
    let user = u1("s1");
    let minted = rig
        .mint(MintRequest::new("Idle", "u_1").capabilities(["kb:read"]))
        .await;
    let id = minted.key.id().to_string();

    let page = get(&dashboard, &user, &format!("/{id}/usage")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-testid="no-use""#));
    assert!(!page.body.contains(r#"data-testid="roll-to-used""#));

    let list = get(&dashboard, &user, "/").await;
    let refused = post(
        &dashboard,
        &user,
        &format!("/{id}/roll-to-used"),
        &[("csrf", &csrf_in(&list)), ("grace", "0")],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("No capability use is recorded"));
    assert!(!refused.body.contains("sk_live_"));
    assert_eq!(
        rig.keyward
            .keys()
            .get(&minted.key.id())
            .await
            .unwrap()
            .replaced_by,
        None
    );

    // Another user's key is not found, and a roll without the form's token is refused.
    let other = SignedInUser::new("s2", "u_2", catalog().all());
    assert_eq!(
        get(&dashboard, &other, &format!("/{id}/usage"))
            .await
            .status,
        404
    );
    let forged = post(
        &dashboard,
        &user,
        &format!("/{id}/roll-to-used"),
        &[("grace", "0")],
    )
    .await;
    assert_eq!(forged.status, 403);
}
