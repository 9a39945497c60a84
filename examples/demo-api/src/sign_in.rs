//! [`SignIn`]: the demo's stand-in for an application's own sign-in, framework-neutral:
//! the `/login`, `/logout` and `/settings` pages, and the signed-in user the API-keys
//! dashboard is given.
//!
//! The session cookie is read here and nowhere else: the `/v1` routes take API keys
//! only, so a browser session never authenticates an API call.

use keyward::http::HttpResponse;
use keyward::http::management::ManagementRoute;
use keyward::scope::CapabilitySet;
use keyward_dashboard::SignedInUser;

use crate::api::DemoApi;
use crate::directory::{ADMIN, MEMBER, User};
use crate::session::{SESSION_COOKIE, Sessions, cookie};

/// Where the API-keys dashboard is mounted.
pub const DASHBOARD_PATH: &str = "/settings/api-keys";

/// The sign-in page.
pub const LOGIN_PATH: &str = "/login";

/// The headers of every page: no inline script or style, not framed, not cached, no
/// referrer; the same policy as the dashboard's.
const PAGE_HEADERS: [(&str, &str); 6] = [
    ("content-type", "text/html; charset=utf-8"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
];

/// The demo's sign-in: who may sign in (the two demo users), what each may grant to a
/// key, and the sessions.
///
/// u_1 holds every capability of the catalog; u_2 the catalog's default grants plus
/// what the key-management routes require (`keys:read`, `keys:write` in the demo).
#[derive(Debug, Clone)]
pub struct SignIn {
    sessions: Sessions,
    admin: CapabilitySet,
    member: CapabilitySet,
}

impl SignIn {
    /// The sign-in of `api`'s users, with sessions held in this process.
    pub fn new(api: &DemoApi) -> SignIn {
        SignIn::with_sessions(api, Sessions::default())
    }

    /// As [`SignIn::new`], over `sessions`.
    pub fn with_sessions(api: &DemoApi, sessions: Sessions) -> SignIn {
        let catalog = api.keyward().catalog();
        let management = api.management();
        let member = catalog.default_set()
            | *management
                .requirement(ManagementRoute::ListKeys)
                .capabilities()
            | *management
                .requirement(ManagementRoute::CreateKey)
                .capabilities();
        SignIn {
            sessions,
            admin: catalog.all(),
            member,
        }
    }

    /// The capabilities `user` holds: what the dashboard lets them grant.
    pub fn capabilities(&self, user: &User) -> CapabilitySet {
        if user.id == ADMIN.id {
            self.admin
        } else {
            self.member
        }
    }

    /// The signed-in user of a request with these `Cookie` header values, or `None`
    /// (no cookie, or a session that ended).
    pub fn signed_in<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<SignedInUser> {
        let id = cookie(cookie_headers, SESSION_COOKIE)?;
        let user = self.sessions.user(id)?;
        Some(SignedInUser {
            session_id: id.to_owned(),
            owner: user.id.to_owned(),
            tenant: None,
            capabilities: self.capabilities(user),
        })
    }

    /// `GET /login`: the form.
    pub fn login_page(&self) -> HttpResponse {
        page(200, "Sign in", LOGIN_FORM)
    }

    /// `POST /login` with a form body (`user=u_1`): a new session, its cookie, and 303
    /// to the dashboard. A session the request already had ends. An unknown user is 400,
    /// a body that is not a form 415, both as a page.
    pub fn sign_in<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a [u8]>,
        content_type: Option<&[u8]>,
        body: &[u8],
    ) -> HttpResponse {
        if !is_form(content_type) {
            return page(
                415,
                "Not a form",
                &format!(
                    "<p>Sign in with the form: its body is \
                     <code>application/x-www-form-urlencoded</code>.</p>{BACK}"
                ),
            );
        }
        let Some(user) = form_user(body) else {
            return page(
                400,
                "Unknown user",
                &format!("<p>Pick <code>u_1</code> or <code>u_2</code>.</p>{BACK}"),
            );
        };
        if let Some(previous) = cookie(cookie_headers, SESSION_COOKIE) {
            self.sessions.end(previous);
        }
        match self.sessions.start(user) {
            Ok(id) => redirect(
                DASHBOARD_PATH,
                Some(format!(
                    "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/"
                )),
            ),
            Err(e) => {
                // The error names the random source, never a session id.
                eprintln!("error: {e}");
                page(
                    503,
                    "Try again",
                    "<p>No session could be started. Try again in a moment.</p>",
                )
            }
        }
    }

    /// `POST /logout`: ends the session, clears its cookie, 303 to `/login`.
    pub fn sign_out<'a>(&self, cookie_headers: impl IntoIterator<Item = &'a [u8]>) -> HttpResponse {
        if let Some(id) = cookie(cookie_headers, SESSION_COOKIE) {
            self.sessions.end(id);
        }
        redirect(
            LOGIN_PATH,
            Some(format!(
                "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
            )),
        )
    }

    /// `GET /settings` (the application's settings, `?tab=apiKeys` or not): 303 to the
    /// API-keys tab, the only one the demo has.
    pub fn settings(&self) -> HttpResponse {
        redirect(DASHBOARD_PATH, None)
    }
}

fn is_form(content_type: Option<&[u8]>) -> bool {
    content_type
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The demo user a form names in its one `user` field.
fn form_user(body: &[u8]) -> Option<&'static User> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let mut users = fields.iter().filter(|(name, _)| name == "user");
    let (_, id) = users.next()?;
    if users.next().is_some() {
        return None;
    }
    [&ADMIN, &MEMBER].into_iter().find(|u| u.id == id)
}

/// A 303 with the pages' security headers (it has no body, so no content type).
fn redirect(location: &str, set_cookie: Option<String>) -> HttpResponse {
    let mut headers: Vec<(&'static str, String)> = PAGE_HEADERS
        .iter()
        .filter(|(name, _)| *name != "content-type")
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect();
    headers.push(("location", location.to_owned()));
    headers.extend(set_cookie.map(|value| ("set-cookie", value)));
    HttpResponse {
        status: 303,
        headers,
        body: String::new(),
    }
}

/// A page around `content` (trusted HTML: nothing a visitor typed is ever put in it),
/// styled by the dashboard's stylesheet.
fn page(status: u16, title: &str, content: &str) -> HttpResponse {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · keyward demo</title>\
         <link rel=\"stylesheet\" href=\"{DASHBOARD_PATH}/assets/dashboard.css\">\
         </head><body><main class=\"dashboard\">\
         <header class=\"page-header\"><h1>{title}</h1></header>\
         <section class=\"card\">{content}</section></main></body></html>\n"
    );
    HttpResponse {
        status,
        headers: PAGE_HEADERS
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect(),
        body,
    }
}

/// The way back from a refused sign-in.
const BACK: &str = "<div class=\"form-actions\">\
     <a class=\"button primary\" href=\"/login\">Back to sign in</a></div>";

const LOGIN_FORM: &str = "<p>This demo stands in for your application's own sign-in: \
     pick a user, no password.</p>\
     <form data-testid=\"login\" method=\"post\" action=\"/login\">\
     <div class=\"field\"><label for=\"user\">User</label>\
     <select id=\"user\" name=\"user\">\
     <option value=\"u_1\">u_1 · ada@example.com (admin: every capability)</option>\
     <option value=\"u_2\">u_2 · grace@example.com (member: the default grants and key management)</option>\
     </select></div>\
     <div class=\"form-actions\">\
     <button class=\"button primary\" type=\"submit\">Sign in</button></div>\
     </form>";

#[cfg(test)]
mod tests {
    use keyward::store::MemoryStore;
    use keyward::{ConfigFile, Keyward};

    use super::*;

    fn sign_in_for(file: &ConfigFile) -> (SignIn, Keyward) {
        let keyward = Keyward::from_config(file)
            .store(MemoryStore::new())
            .build()
            .unwrap();
        let api = DemoApi::new(keyward.clone(), file.management_api(&keyward));
        (SignIn::new(&api), keyward)
    }

    fn names(keyward: &Keyward, set: &CapabilitySet) -> Vec<String> {
        let mut names: Vec<_> = keyward
            .catalog()
            .names(set)
            .into_iter()
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn in_the_demo_u_1_holds_everything_and_u_2_the_defaults_and_key_management() {
        let (sign_in, keyward) = sign_in_for(&ConfigFile::demo());
        assert_eq!(
            sign_in.capabilities(&ADMIN),
            keyward.catalog().all(),
            "u_1: every capability"
        );
        assert_eq!(
            names(&keyward, &sign_in.capabilities(&MEMBER)),
            ["desktop:chat", "desktop:read", "keys:read", "keys:write"]
        );
    }

    #[test]
    fn with_a_catalog_of_its_own_u_2_gets_its_defaults_and_what_management_requires() {
        let file = ConfigFile::parse(
            "[capabilities]\n\
             names = [\"reports:read\", \"reports:write\", \"keys:manage\", \"billing:admin\"]\n\
             defaults = [\"reports:read\"]\n\
             [management]\nread = \"keys:manage\"\nwrite = \"keys:manage\"\n",
            "keyward.toml",
        )
        .unwrap();
        let (sign_in, keyward) = sign_in_for(&file);
        assert_eq!(
            names(&keyward, &sign_in.capabilities(&ADMIN)),
            [
                "billing:admin",
                "keys:manage",
                "reports:read",
                "reports:write"
            ]
        );
        assert_eq!(
            names(&keyward, &sign_in.capabilities(&MEMBER)),
            ["keys:manage", "reports:read"]
        );
    }

    #[test]
    fn a_session_cookie_names_the_signed_in_user() {
        let (sign_in, keyward) = sign_in_for(&ConfigFile::demo());
        let id = sign_in.sessions.start(&MEMBER).unwrap();
        let header = format!("{SESSION_COOKIE}={id}");
        let user = sign_in.signed_in([header.as_bytes()]).unwrap();
        assert_eq!(user.session_id, id);
        assert_eq!(user.owner, "u_2");
        assert_eq!(user.tenant, None);
        assert_eq!(user.capabilities, sign_in.capabilities(&MEMBER));
        assert!(
            sign_in
                .signed_in([&b"keyward_demo_session=forged"[..]])
                .is_none()
        );
        let _ = keyward;
    }

    #[test]
    fn signing_in_sets_the_cookie_and_signing_out_clears_it() {
        let (sign_in, _keyward) = sign_in_for(&ConfigFile::demo());
        let form = Some(&b"application/x-www-form-urlencoded"[..]);
        let answer = sign_in.sign_in(std::iter::empty(), form, b"user=u_1");
        assert_eq!(answer.status, 303);
        let header = |answer: &HttpResponse, name: &str| {
            answer
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header(&answer, "location").as_deref(), Some(DASHBOARD_PATH));
        let cookie = header(&answer, "set-cookie").unwrap();
        let id = cookie
            .strip_prefix("keyward_demo_session=")
            .and_then(|c| c.strip_suffix("; HttpOnly; SameSite=Strict; Path=/"))
            .unwrap();
        let sent = format!("{SESSION_COOKIE}={id}");
        assert_eq!(sign_in.signed_in([sent.as_bytes()]).unwrap().owner, "u_1");

        // Signing in again ends the session the request carried.
        let again = sign_in.sign_in([sent.as_bytes()], form, b"user=u_2");
        assert_eq!(again.status, 303);
        assert!(sign_in.signed_in([sent.as_bytes()]).is_none());
        let cookie = header(&again, "set-cookie").unwrap();
        let second = cookie.split(';').next().unwrap().to_owned();

        let out = sign_in.sign_out([second.as_bytes()]);
        assert_eq!(out.status, 303);
        assert_eq!(header(&out, "location").as_deref(), Some(LOGIN_PATH));
        assert_eq!(
            header(&out, "set-cookie").as_deref(),
            Some("keyward_demo_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
        );
        assert!(sign_in.signed_in([second.as_bytes()]).is_none());
    }

    #[test]
    fn bad_sign_in_forms_are_pages_with_the_right_status() {
        let (sign_in, _keyward) = sign_in_for(&ConfigFile::demo());
        let form = Some(&b"application/x-www-form-urlencoded"[..]);
        let unknown = sign_in.sign_in(std::iter::empty(), form, b"user=u_9");
        assert_eq!(unknown.status, 400);
        let json = sign_in.sign_in(std::iter::empty(), Some(b"application/json"), b"{}");
        assert_eq!(json.status, 415);
        for page in [&unknown, &json] {
            assert!(page.headers.iter().all(|(n, _)| *n != "set-cookie"));
            assert!(
                page.headers
                    .contains(&("x-frame-options", "DENY".to_owned()))
            );
        }
        assert_eq!(sign_in.settings().status, 303);
    }

    #[test]
    fn the_form_names_exactly_one_known_user() {
        assert_eq!(form_user(b"user=u_1"), Some(&ADMIN));
        assert_eq!(form_user(b"user=u_2&other=x"), Some(&MEMBER));
        assert_eq!(form_user(b"user=u_3"), None);
        assert_eq!(form_user(b"user=u_1&user=u_2"), None);
        assert_eq!(form_user(b""), None);
        assert_eq!(form_user(&[0xff, 0xfe]), None);
    }

    #[test]
    fn only_a_form_content_type_is_read() {
        assert!(is_form(Some(b"application/x-www-form-urlencoded")));
        assert!(is_form(Some(
            b"Application/X-WWW-Form-Urlencoded; charset=UTF-8"
        )));
        assert!(!is_form(Some(b"application/json")));
        assert!(!is_form(None));
    }
}
