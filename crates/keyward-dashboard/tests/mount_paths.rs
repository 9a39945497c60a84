//! Links and redirects stay on this site whatever path the dashboard is mounted at,
//! including a mount with a segment the visitor chose (`/{team}/keys`).

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::http::request::Parts;
use keyward_dashboard::{Dashboard, DashboardRequest, SignedInUser};
use keyward_testing::rig::{catalog, rig};
use tower::ServiceExt;

/// Whether a browser would resolve `location` (a path from this site) to another host:
/// it reads `\` as `/` in http(s) URLs, so `/\host` is `//host`.
fn leaves_the_site(location: &str) -> bool {
    let normalized = location.replace('\\', "/");
    normalized.starts_with("//") || !normalized.starts_with('/')
}

#[tokio::test]
async fn a_backslash_in_the_mount_never_makes_a_link_to_another_host() {
    let rig = rig();
    let dashboard = Dashboard::new(&rig.keyward).login_path("/login");
    let user = SignedInUser::new("s1", "u_1", catalog().all());
    for mount in [
        "/\\evil.example",
        "\\\\evil.example/keys",
        "/\\/evil.example",
    ] {
        let page = dashboard
            .handle(DashboardRequest::get("/"), Some(&user), mount)
            .await;
        assert_eq!(page.status, 200);
        for attribute in ["href=\"", "action=\""] {
            for link in page.body.split(attribute).skip(1) {
                let link = &link[..link.find('"').unwrap()];
                assert!(!leaves_the_site(link), "{mount:?}: {attribute}{link}");
            }
        }
        // A revoke's redirect back to the list.
        let revoke = dashboard
            .handle(
                DashboardRequest::post_form("/AbCd12345678/revoke", b"csrf=x"),
                Some(&user),
                mount,
            )
            .await;
        assert_eq!(revoke.status, 403);
    }
}

#[tokio::test]
async fn an_axum_mount_with_a_path_parameter_keeps_redirects_on_this_site() {
    let rig = rig();
    let holds = rig.keyward.catalog().all();
    let session = move |parts: &Parts| {
        let cookie = parts.headers.get("cookie")?;
        (cookie == "s=1").then(|| SignedInUser::new("session-1", "u_1", holds))
    };
    let app: Router = Router::new().nest_service(
        "/{team}/keys",
        keyward_dashboard::axum::router(Dashboard::new(&rig.keyward), session),
    );
    let uri = "/\\evil.example/keys/";
    let Ok(request) = Request::get(uri)
        .header("cookie", "s=1")
        .body(Body::empty())
    else {
        return; // http refuses the path: nothing to check
    };
    let response = app.oneshot(request).await.unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    let action = body.split("action=\"").nth(1).expect("a form");
    let action = &action[..action.find('"').unwrap()];
    assert!(!leaves_the_site(action), "{action}");
}
