//! The pages, as maud templates: everything interpolated is HTML-escaped.

use keyward::clock::Timestamp;
use keyward::store::KeyState;
use keyward::{ExpiredReason, KeySummary, KeyUsage, MAX_KEY_NAME_LEN};
use maud::{DOCTYPE, Markup, html};

use crate::assets;
use crate::slots::ShownKey;

/// What every page shares: the dashboard's title, where it is mounted and the session's
/// CSRF token.
pub(crate) struct Chrome<'a> {
    /// The dashboard's title (`API keys`).
    pub(crate) title: &'a str,
    /// The mount, without a trailing `/` (`/settings/api-keys`).
    pub(crate) base: &'a str,
    /// The token every form carries.
    pub(crate) csrf: &'a str,
}

impl Chrome<'_> {
    /// The absolute URL of `rest` (which starts with `/`) under the mount.
    pub(crate) fn url(&self, rest: &str) -> String {
        format!("{}{rest}", self.base)
    }

    fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }

    fn page(&self, heading: &str, content: Markup) -> Markup {
        let version = assets::version();
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="referrer" content="no-referrer";
                    title {
                        @if heading == self.title { (self.title) } @else { (heading) " · " (self.title) }
                    }
                    link rel="stylesheet" href=(self.url(&format!("/assets/dashboard.css?v={version}")));
                    script src=(self.url(&format!("/assets/dashboard.js?v={version}"))) defer {}
                }
                body {
                    main.dashboard { (content) }
                }
            }
        }
    }
}

/// A message above the list, after an action or about a refused one.
pub(crate) enum Flash {
    /// Something done.
    Notice(&'static str),
    /// Something refused, and why.
    Error(String),
}

/// A capability offered in the create form.
pub(crate) struct Offered<'a> {
    pub(crate) name: &'a str,
    pub(crate) ticked: bool,
}

/// The create form's choices and values.
pub(crate) struct CreateForm<'a> {
    /// The capabilities the user holds, in name order.
    pub(crate) offered: Vec<Offered<'a>>,
    /// Implicit capabilities every key holds anyway.
    pub(crate) implicit: Vec<&'a str>,
    /// The name field's value (kept when a create is refused).
    pub(crate) name: &'a str,
    /// The chosen expiry.
    pub(crate) expires: &'a str,
    /// Whether "honeytoken" is ticked.
    pub(crate) honeytoken: bool,
}

/// The expiry choices of the create form: field value, label, days.
pub(crate) const EXPIRY_CHOICES: [(&str, &str, Option<u64>); 4] = [
    ("never", "Never", None),
    ("30d", "In 30 days", Some(30)),
    ("90d", "In 90 days", Some(90)),
    ("1y", "In 1 year", Some(365)),
];

/// The roll grace choices: seconds and label.
pub(crate) const GRACE_CHOICES: [(u64, &str); 4] = [
    (0, "no grace"),
    (3600, "1 h grace"),
    (24 * 3600, "24 h grace"),
    (7 * 24 * 3600, "7 d grace"),
];

/// The list page.
pub(crate) struct ListPage<'a> {
    pub(crate) keys: &'a [KeySummary],
    /// The cursor of the next page.
    pub(crate) next: Option<String>,
    /// Whether this is a later page.
    pub(crate) paged: bool,
    /// The signed-in user's owner id (only its keys roll).
    pub(crate) owner: &'a str,
    /// A tenant admin sees whose each key is.
    pub(crate) show_owner: bool,
    /// The grace choices this keyward allows (up to its maximum), and the preselected one.
    pub(crate) graces: Vec<(u64, &'static str)>,
    pub(crate) default_grace: u64,
    pub(crate) flash: Option<Flash>,
    pub(crate) create: CreateForm<'a>,
}

/// A key's status as listed: `rolled` is an active key already replaced.
pub(crate) fn status(key: &KeySummary) -> &'static str {
    match key.state {
        KeyState::Active if key.replaced_by.is_some() => "rolled",
        state => state.as_str(),
    }
}

pub(crate) fn list(chrome: &Chrome<'_>, page: &ListPage<'_>) -> Markup {
    let content = html! {
        header.page-header {
            h1 { (chrome.title) }
            p.lede { "Keys let programs call the API as you. Each holds at most what you hold." }
        }
        @match &page.flash {
            Some(Flash::Notice(text)) => div.flash.notice role="status" { (text) },
            Some(Flash::Error(text)) => div.flash.error role="alert" { (text) },
            None => {},
        }
        (create_form(chrome, &page.create))
        section.card {
            h2 { "Your keys" }
            @if page.keys.is_empty() {
                p.empty { "No keys yet. Create one above." }
            } @else {
                div.table-wrap {
                    table.keys {
                        thead {
                            tr {
                                th scope="col" { "Name" }
                                @if page.show_owner { th scope="col" { "Owner" } }
                                th scope="col" { "Key" }
                                th scope="col" { "Capabilities" }
                                th scope="col" { "Created" }
                                th scope="col" { "Last used" }
                                th scope="col" { "Expires" }
                                th scope="col" { "Status" }
                                th scope="col" { span.visually-hidden { "Actions" } }
                            }
                        }
                        tbody {
                            @for key in page.keys { (row(chrome, page, key)) }
                        }
                    }
                }
            }
            @if page.paged || page.next.is_some() {
                nav.pager {
                    @if page.paged { a href=(chrome.url("/")) { "First page" } }
                    @if let Some(next) = &page.next {
                        a href=(chrome.url(&format!("/?after={next}"))) { "Next page" }
                    }
                }
            }
        }
    };
    chrome.page(chrome.title, content)
}

fn create_form(chrome: &Chrome<'_>, form: &CreateForm<'_>) -> Markup {
    let mut groups: Vec<(&str, Vec<&Offered<'_>>)> = Vec::new();
    for offered in &form.offered {
        let resource = offered.name.split(':').next().unwrap_or(offered.name);
        match groups.last_mut() {
            Some((last, members)) if *last == resource => members.push(offered),
            _ => groups.push((resource, vec![offered])),
        }
    }
    html! {
        section.card {
            h2 { "Create a key" }
            form.create method="post" action=(chrome.url("/")) data-testid="create-key" {
                (chrome.csrf_field())
                div.field {
                    label for="key-name" { "Name" }
                    input #key-name type="text" name="name" value=(form.name) required
                        maxlength=(MAX_KEY_NAME_LEN) placeholder="Production CI" autocomplete="off";
                    p.hint { "Where the key will be used, so you recognise it later." }
                }
                fieldset.field {
                    legend { "Capabilities" }
                    @if groups.is_empty() {
                        p.hint { "You hold no capabilities to grant." }
                    }
                    @for (resource, members) in &groups {
                        div.cap-group {
                            span.cap-resource { (resource) }
                            div.cap-options {
                                @for offered in members {
                                    label.check {
                                        input type="checkbox" name="capabilities" value=(offered.name)
                                            checked[offered.ticked];
                                        " " code { (offered.name) }
                                    }
                                }
                            }
                        }
                    }
                    @if !form.implicit.is_empty() {
                        p.hint {
                            "Every key also holds "
                            @for (i, name) in form.implicit.iter().enumerate() {
                                @if i > 0 { ", " }
                                code { (name) }
                            }
                            "."
                        }
                    }
                }
                div.field {
                    label for="key-expiry" { "Expires" }
                    select #key-expiry name="expires" {
                        @for (value, label, _) in EXPIRY_CHOICES {
                            option value=(value) selected[value == form.expires] { (label) }
                        }
                    }
                }
                div.field {
                    label.check {
                        input #key-honeytoken type="checkbox" name="honeytoken" value="on"
                            checked[form.honeytoken];
                        " Honeytoken (decoy)"
                    }
                    p.hint {
                        "A decoy to plant where only a leak would find it: it authenticates "
                        "nothing, and presenting it locks the client out and raises an alert."
                    }
                }
                div.form-actions {
                    button.button.primary type="submit" { "Create key" }
                }
            }
        }
    }
}

fn row(chrome: &Chrome<'_>, page: &ListPage<'_>, key: &KeySummary) -> Markup {
    let id = key.id.as_str();
    let status = status(key);
    let can_roll = status == "active" && key.owner == page.owner;
    html! {
        tr data-key-id=(id) {
            td.name data-label="Name" { span.key-name { (key.name) } }
            @if page.show_owner { td data-label="Owner" { (key.owner) } }
            td data-label="Key" { code.masked { (key.key_prefix) "…" (key.last4) } }
            td.capabilities data-label="Capabilities" {
                @if key.capabilities.is_empty() {
                    span.muted { "none" }
                } @else {
                    ul.chips { @for name in &key.capabilities { li.chip { (name) } } }
                }
            }
            td.time data-label="Created" { (date(key.created_at)) }
            td.time data-label="Last used" { (optional_date(key.last_used_at, "never")) }
            td.time data-label="Expires" { (optional_date(key.expires_at, "never")) }
            td data-label="Status" {
                span class=(format!("badge badge-{status}")) { (status) }
                @if key.honeytoken {
                    " " span.badge.badge-honeytoken data-testid="honeytoken" { "honeytoken" }
                }
                @if key.expired_reason == Some(ExpiredReason::Unused) {
                    " " span.muted data-testid="expired-unused" { "unused too long" }
                }
            }
            td.actions {
                div.action-list {
                    @if can_roll {
                        form.inline.roll method="post" action=(chrome.url(&format!("/{id}/roll"))) {
                            (chrome.csrf_field())
                            label.visually-hidden for=(format!("grace-{id}")) { "Grace period" }
                            select.small #(format!("grace-{id}")) name="grace" title="How long the old key keeps working" {
                                @for (seconds, label) in &page.graces {
                                    option value=(seconds) selected[*seconds == page.default_grace] { (label) }
                                }
                            }
                            button.button.small type="submit" data-testid="roll" { "Roll" }
                        }
                    }
                    @if key.state != KeyState::Revoked {
                        a.button.small href=(chrome.url(&format!("/{id}/usage")))
                            data-testid="usage" title="Which capabilities it used" { "Usage" }
                    }
                    @if key.state == KeyState::Active {
                        form.inline method="post" action=(chrome.url(&format!("/{id}/disable"))) {
                            (chrome.csrf_field())
                            button.button.small type="submit" data-testid="disable" { "Disable" }
                        }
                    }
                    @if key.state == KeyState::Disabled {
                        form.inline method="post" action=(chrome.url(&format!("/{id}/enable"))) {
                            (chrome.csrf_field())
                            button.button.small type="submit" data-testid="enable" { "Enable" }
                        }
                    }
                    @if key.state != KeyState::Revoked {
                        a.button.small.danger-outline href=(chrome.url(&format!("/{id}/revoke")))
                            data-testid="revoke" { "Revoke" }
                    }
                }
            }
        }
    }
}

/// The show-once page of a new (or replacement) key.
pub(crate) fn new_key(chrome: &Chrome<'_>, shown: &ShownKey, now: Timestamp) -> Markup {
    let heading = if shown.old_expires_at.is_some() {
        "Your replacement key"
    } else {
        "Your new key"
    };
    let content = html! {
        header.page-header {
            h1 { (heading) }
            p.lede { "Name: " strong { (shown.name) } }
        }
        section.card {
            div.warning role="alert" {
                strong { "Copy this key now. You will not see it again." }
                " Only a hash of it is stored: if you lose it, roll or revoke it and create another."
            }
            div.key-box {
                code #new-key data-testid="new-key" { (shown.key.as_str()) }
                button.button type="button" data-copy="new-key" hidden { "Copy" }
            }
            @if let Some(old) = shown.old_expires_at {
                @if old > now {
                    p { "The old key keeps working until " (time(old)) ", then stops." }
                } @else {
                    p { "The old key has stopped working." }
                }
            }
            div.form-actions {
                a.button.primary href=(chrome.url("/")) { "Done" }
            }
        }
    };
    chrome.page(heading, content)
}

/// What a slot shows after its key was taken, or when it is not this session's.
pub(crate) fn key_not_shown(chrome: &Chrome<'_>, already_shown: bool) -> Markup {
    let (heading, text) = if already_shown {
        (
            "This key was already shown",
            "A new key is shown only once. If it was not copied, roll or revoke it and create another.",
        )
    } else {
        (
            "Nothing to show",
            "This link shows a new key once, to the session that created it, for 10 minutes.",
        )
    };
    message(chrome, heading, text)
}

/// The confirmation before a revoke.
pub(crate) fn confirm_revoke(chrome: &Chrome<'_>, key: &KeySummary) -> Markup {
    let id = key.id.as_str();
    let content = html! {
        header.page-header { h1 { "Revoke this key?" } }
        section.card {
            dl.key-facts {
                dt { "Name" } dd { (key.name) }
                dt { "Key" } dd { code.masked { (key.key_prefix) "…" (key.last4) } }
                dt { "Status" } dd { span class=(format!("badge badge-{}", status(key))) { (status(key)) } }
            }
            div.warning {
                "Requests with this key are refused from now on. A revoked key cannot be enabled again."
            }
            form.form-actions method="post" action=(chrome.url(&format!("/{id}/revoke")))
                data-confirm="Revoke this key? This cannot be undone." {
                (chrome.csrf_field())
                button.button.danger type="submit" data-testid="confirm-revoke" { "Revoke key" }
                a.button href=(chrome.url("/")) { "Cancel" }
            }
        }
    };
    chrome.page("Revoke key", content)
}

/// The usage page of a key.
pub(crate) struct UsagePage<'a> {
    pub(crate) key: &'a KeySummary,
    pub(crate) usage: &'a KeyUsage,
    /// Whether the user may roll it (their own active key).
    pub(crate) can_roll: bool,
    pub(crate) graces: &'a [(u64, &'static str)],
    pub(crate) default_grace: u64,
}

/// What a key was granted and used, and a roll to what its use needs.
pub(crate) fn usage(chrome: &Chrome<'_>, page: &UsagePage<'_>) -> Markup {
    let key = page.key;
    let usage = page.usage;
    let id = key.id.as_str();
    let chips = |names: &[String], testid: &str| {
        html! {
            @if names.is_empty() {
                span.muted data-testid=(testid) { "none" }
            } @else {
                ul.chips data-testid=(testid) { @for name in names { li.chip { (name) } } }
            }
        }
    };
    let narrower = !usage.suggested.is_empty() && usage.suggested != usage.granted;
    let content = html! {
        header.page-header {
            h1 { "Capability usage" }
            p.lede { "Name: " strong { (key.name) } " " code.masked { (key.key_prefix) "…" (key.last4) } }
        }
        section.card {
            dl.key-facts {
                dt { "Granted" } dd { (chips(&usage.granted, "granted")) }
                dt { "Used" } dd { (chips(&usage.used, "used")) }
                dt { "Recorded since" } dd { (optional_date(usage.since, "not yet")) }
                dt { "Needed" } dd { (chips(&usage.suggested, "suggested")) }
            }
            @if usage.suggested.is_empty() {
                p data-testid="no-use" {
                    "No capability use is recorded for this key yet, so there is nothing to narrow it to."
                }
            } @else if narrower {
                p { "The key uses less than it was granted. A replacement with only what it needs does the same work and risks less if it leaks." }
            } @else {
                p { "The key uses everything it was granted." }
            }
            @if page.can_roll && !usage.suggested.is_empty() {
                form.form-actions method="post" action=(chrome.url(&format!("/{id}/roll-to-used"))) {
                    (chrome.csrf_field())
                    label.visually-hidden for="grace" { "Grace period" }
                    select.small #grace name="grace" title="How long the old key keeps working" {
                        @for (seconds, label) in page.graces {
                            option value=(seconds) selected[*seconds == page.default_grace] { (label) }
                        }
                    }
                    button.button.primary type="submit" data-testid="roll-to-used" { "Roll to used capabilities" }
                    a.button href=(chrome.url("/")) { "Cancel" }
                }
            } @else {
                div.form-actions { a.button.primary href=(chrome.url("/")) { "Back to " (chrome.title) } }
            }
        }
    };
    chrome.page("Capability usage", content)
}

/// A page with a heading, a sentence and a way back: errors, and answers with nothing
/// else to show.
pub(crate) fn message(chrome: &Chrome<'_>, heading: &str, text: &str) -> Markup {
    let content = html! {
        header.page-header { h1 { (heading) } }
        section.card {
            p { (text) }
            div.form-actions { a.button.primary href=(chrome.url("/")) { "Back to " (chrome.title) } }
        }
    };
    chrome.page(heading, content)
}

/// `2027-01-15 08:00 UTC`, in a `<time>` element.
fn time(at: Timestamp) -> Markup {
    let (rfc3339, full, _) = time_texts(at);
    html! { time datetime=(rfc3339) { (full) } }
}

/// The date alone, the time of day in its tooltip: the list has many columns.
fn date(at: Timestamp) -> Markup {
    let (rfc3339, full, date) = time_texts(at);
    html! { time datetime=(rfc3339) title=(full) { (date) } }
}

/// RFC 3339, `2027-01-15 08:00 UTC` and `2027-01-15`.
fn time_texts(at: Timestamp) -> (String, String, String) {
    let rfc3339 = at.to_string();
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(clock)) => {
            let full = format!("{date} {clock} UTC");
            let date = date.to_string();
            (rfc3339, full, date)
        }
        _ => (rfc3339.clone(), rfc3339.clone(), rfc3339),
    }
}

fn optional_date(at: Option<Timestamp>, none: &str) -> Markup {
    match at {
        Some(at) => date(at),
        None => html! { span.muted { (none) } },
    }
}
