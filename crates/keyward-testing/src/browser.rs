//! [`Browser`]: headless Chromium driven over WebDriver, for tests of pages as a person
//! uses them.
//!
//! [`Browser::start_or_skip`] runs `chromedriver` as a child process on a free loopback
//! port and opens one Chromium session with a fresh profile. When `chromedriver` or
//! Chromium is not installed the test prints `skipped: chromium/chromedriver not found
//! (…)` and returns, unless `KEYWARD_REQUIRE_SERVICES=1` (as `scripts/test` sets it),
//! which makes it a failure — the same rule as [`crate::services::reachable_or_skip`].
//!
//! Every step is bounded ([`STEP_TIMEOUT`]): a page that never loads or an element that
//! never appears fails the test with the step's name instead of hanging it.

use std::fmt;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::services;

/// The variable naming the Chromium binary; `/usr/bin/chromium` when unset.
pub const CHROMIUM_VAR: &str = "KEYWARD_TEST_CHROMIUM";

/// The variable naming the chromedriver binary; `chromedriver` on `PATH` when unset.
pub const CHROMEDRIVER_VAR: &str = "KEYWARD_TEST_CHROMEDRIVER";

/// The variable naming a directory to save screenshots in; unset, none are taken.
pub const SCREENSHOTS_VAR: &str = "KEYWARD_SCREENSHOTS";

/// How long one step (a page load, a click, finding an element) may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How often a wait polls the page.
const POLL: Duration = Duration::from_millis(100);

/// The Chromium and chromedriver binaries a [`Browser`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// The chromedriver executable.
    pub chromedriver: PathBuf,
    /// The Chromium executable chromedriver starts.
    pub chromium: PathBuf,
}

/// Why [`Tools::locate`] found no browser to run: which binary is missing and where it
/// was looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolsMissing(String);

impl fmt::Display for ToolsMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolsMissing {}

impl Tools {
    /// chromedriver from `KEYWARD_TEST_CHROMEDRIVER` or `PATH`, Chromium from
    /// `KEYWARD_TEST_CHROMIUM` or `/usr/bin/chromium`.
    ///
    /// # Errors
    ///
    /// When either is not an executable file.
    pub fn locate() -> Result<Tools, ToolsMissing> {
        let chromedriver = match std::env::var_os(CHROMEDRIVER_VAR) {
            Some(path) => executable(PathBuf::from(path)).ok_or_else(|| {
                ToolsMissing(format!(
                    "{CHROMEDRIVER_VAR} names no executable file; install chromium-driver"
                ))
            })?,
            None => on_path("chromedriver").ok_or_else(|| {
                ToolsMissing(format!(
                    "no chromedriver on PATH; install chromium-driver or set {CHROMEDRIVER_VAR}"
                ))
            })?,
        };
        let chromium =
            std::env::var_os(CHROMIUM_VAR).map_or_else(|| DEFAULT_CHROMIUM.into(), PathBuf::from);
        let chromium = executable(chromium.clone()).ok_or_else(|| {
            ToolsMissing(format!(
                "no Chromium at {}; install chromium or set {CHROMIUM_VAR}",
                chromium.display()
            ))
        })?;
        Ok(Tools {
            chromedriver,
            chromium,
        })
    }
}

fn executable(path: PathBuf) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&path).ok()?;
    (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(path)
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).find_map(|dir| executable(dir.join(name)))
}

/// The located tools, or `None` after printing `skipped: chromium/chromedriver not found
/// (<why>)`.
///
/// # Panics
///
/// When they are missing and `KEYWARD_REQUIRE_SERVICES=1`.
#[track_caller]
pub fn tools_or_skip() -> Option<Tools> {
    match Tools::locate() {
        Ok(tools) => Some(tools),
        Err(why) => {
            assert!(
                !services::required(),
                "chromium/chromedriver not found ({why}) ({}=1)",
                services::REQUIRE_SERVICES
            );
            println!("skipped: chromium/chromedriver not found ({why})");
            None
        }
    }
}

/// chromedriver as a child process; on drop it is told to shut down (which quits the
/// browsers it started: killing it alone would leave Chromium running) and then killed,
/// and Chromium's profile is removed.
#[derive(Debug)]
struct Driver {
    child: Child,
    addr: SocketAddr,
    profile: Option<tempfile::TempDir>,
}

impl Driver {
    fn start(tools: &Tools, profile: tempfile::TempDir) -> Driver {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let logs = std::env::var_os("KEYWARD_TEST_SERVER_LOGS").is_some();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if logs {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", tools.chromedriver.display()));
        Driver {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            profile: Some(profile),
        }
    }

    /// Waits until `GET /status` says the driver is ready.
    async fn ready(&mut self) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll chromedriver") {
                panic!("chromedriver exited before it was ready: {status}");
            }
            let addr = self.addr;
            let answer = tokio::task::spawn_blocking(move || get(addr, "/status"))
                .await
                .expect("probe chromedriver");
            if answer.is_ok_and(|body| body.contains("\"ready\":true")) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver on {} not ready within {STEP_TIMEOUT:?}",
                self.addr
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = get(self.addr, "/shutdown");
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(profile) = self.profile.take() {
            remove_profile(&profile.keep());
        }
    }
}

/// Removes Chromium's profile. A browser still shutting down may write into it after a
/// first removal, so this tries again for up to a second until it stays gone.
fn remove_profile(path: &Path) {
    for _ in 0..20 {
        let _ = std::fs::remove_dir_all(path);
        std::thread::sleep(Duration::from_millis(50));
        if !path.exists() {
            return;
        }
    }
}

/// A blocking `GET path` to the driver, bounded to 5 s, for the readiness probe and the
/// shutdown in `Drop` (which cannot await).
fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let limit = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, limit)?;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(limit))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    // chromedriver keeps the connection open despite `Connection: close`: read up to
    // the end of the body its Content-Length announces.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
        if complete(&answer) {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Whether `answer` holds a whole HTTP response: its headers and as many body bytes as
/// their Content-Length says.
fn complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    answer.len() >= end + 4 + length
}

/// One headless Chromium session with a fresh profile, window 1280×900; the driver and
/// the browser end when it is dropped.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    // Dropped after the client: the driver shuts the browser down and removes its profile.
    driver: Driver,
}

impl Browser {
    /// A browser, or `None` after printing why it was skipped (see [`tools_or_skip`]).
    ///
    /// # Panics
    ///
    /// When the tools are missing and `KEYWARD_REQUIRE_SERVICES=1`, or when they are
    /// there but do not start a session within [`STEP_TIMEOUT`].
    pub async fn start_or_skip() -> Option<Browser> {
        let tools = tools_or_skip()?;
        Some(Browser::start(&tools).await)
    }

    /// Starts chromedriver and a Chromium session with `tools`.
    ///
    /// # Panics
    ///
    /// When either does not start within [`STEP_TIMEOUT`].
    pub async fn start(tools: &Tools) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("keyward-chromium-")
            .tempdir()
            .expect("a profile directory");
        let capabilities = capabilities(&tools.chromium, profile.path());
        let mut driver = Driver::start(tools, profile);
        driver.ready().await;
        let client = step("open a Chromium session", async {
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities)
                .connect(&format!("http://{}", driver.addr))
                .await
        })
        .await
        .unwrap_or_else(|e| panic!("open a Chromium session via chromedriver: {e}"));
        Browser { client, driver }
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Where chromedriver listens.
    pub fn driver_addr(&self) -> SocketAddr {
        self.driver.addr
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        let what = format!("open {url}");
        step(&what, self.client.goto(url))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }

    /// Reloads the current page.
    pub async fn refresh(&self) {
        step("reload", self.client.refresh())
            .await
            .unwrap_or_else(|e| panic!("reload: {e}"));
    }

    /// The current URL's path, e.g. `/settings/api-keys/new`.
    pub async fn path(&self) -> String {
        step("read the URL", self.client.current_url())
            .await
            .unwrap_or_else(|e| panic!("read the URL: {e}"))
            .path()
            .to_owned()
    }

    /// Waits until the current path satisfies `expected`, and returns it.
    ///
    /// # Panics
    ///
    /// When it does not within [`STEP_TIMEOUT`]; the message names `what`.
    pub async fn wait_for_path(&self, what: &str, expected: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let path = self.path().await;
            if expected(&path) {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "the page did not reach {what} within {STEP_TIMEOUT:?}; it is at {path}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first element matching the CSS `selector`, waiting up to [`STEP_TIMEOUT`]
    /// for it to appear.
    pub async fn find(&self, selector: &str) -> Element {
        let what = format!("find {selector}");
        let found = step(
            &what,
            self.client
                .wait()
                .at_most(STEP_TIMEOUT)
                .every(POLL)
                .for_element(Locator::Css(selector)),
        )
        .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("{what} on {}: {e}", self.path_or_unknown().await),
        }
    }

    /// Every element matching the CSS `selector` now (no waiting).
    pub async fn find_all(&self, selector: &str) -> Vec<Element> {
        let what = format!("find all {selector}");
        step(&what, self.client.find_all(Locator::Css(selector)))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// Whether an element matches the CSS `selector` now (no waiting).
    pub async fn exists(&self, selector: &str) -> bool {
        !self.find_all(selector).await.is_empty()
    }

    /// The rendered text of the first element matching `selector`.
    pub async fn text(&self, selector: &str) -> String {
        let element = self.find(selector).await;
        let what = format!("read the text of {selector}");
        step(&what, element.text())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// The rendered text of the whole page (`body`).
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> String {
        step("read the page source", self.client.source())
            .await
            .unwrap_or_else(|e| panic!("read the page source: {e}"))
    }

    /// Clicks the first element matching `selector` (waiting for it to appear).
    pub async fn click(&self, selector: &str) {
        let element = self.find(selector).await;
        click(&element, selector).await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        step("run a script", self.client.execute(script, args))
            .await
            .unwrap_or_else(|e| panic!("run {script:?}: {e}"))
    }

    /// The text of the open alert, confirm or prompt dialog, if one is open.
    pub async fn dialog(&self) -> Option<String> {
        match step("look for a dialog", self.client.get_alert_text()).await {
            Ok(text) => Some(text),
            Err(CmdError::Standard(e)) if e.error == ErrorStatus::NoSuchAlert => None,
            Err(e) => panic!("look for a dialog: {e}"),
        }
    }

    /// Accepts the open dialog (a `confirm()` a page adds to a button), if one is open;
    /// returns its text.
    pub async fn accept_dialog(&self) -> Option<String> {
        let text = self.dialog().await?;
        step("accept the dialog", self.client.accept_alert())
            .await
            .unwrap_or_else(|e| panic!("accept the dialog {text:?}: {e}"));
        Some(text)
    }

    /// The value of cookie `name` for the current page, HttpOnly ones included.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        match step("read a cookie", self.client.get_named_cookie(name)).await {
            Ok(cookie) => Some(cookie.value().to_owned()),
            Err(CmdError::Standard(e)) if e.error == ErrorStatus::NoSuchCookie => None,
            Err(e) => panic!("read cookie {name}: {e}"),
        }
    }

    /// Deletes every cookie of the current site: the next request starts a new session.
    pub async fn forget_cookies(&self) {
        step("delete the cookies", self.client.delete_all_cookies())
            .await
            .unwrap_or_else(|e| panic!("delete the cookies: {e}"));
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        step("take a screenshot", self.client.screenshot())
            .await
            .unwrap_or_else(|e| panic!("take a screenshot: {e}"))
    }

    /// Saves a screenshot as `<dir>/<name>` when `KEYWARD_SCREENSHOTS=<dir>` is set, and
    /// returns where; does nothing otherwise (tests never write into the repository
    /// unless asked to). A relative `<dir>` is taken from the workspace root, not from
    /// the package directory cargo runs each test in.
    pub async fn screenshot_if_asked(&self, name: &str) -> Option<PathBuf> {
        let dir = screenshots_dir()?;
        let png = self.screenshot().await;
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        println!("screenshot: {}", path.display());
        Some(path)
    }

    async fn path_or_unknown(&self) -> String {
        match tokio::time::timeout(STEP_TIMEOUT, self.client.current_url()).await {
            Ok(Ok(url)) => url.path().to_owned(),
            _ => "an unknown page".to_owned(),
        }
    }

    /// Ends the session and the driver now (dropping does the same, blocking).
    pub async fn close(self) {
        let Browser { client, driver } = self;
        let _ = tokio::time::timeout(STEP_TIMEOUT, client.close()).await;
        tokio::task::spawn_blocking(move || drop(driver))
            .await
            .expect("stop chromedriver");
    }
}

/// The directory `KEYWARD_SCREENSHOTS` names, a relative one under the workspace root;
/// `None` when it is unset or empty.
pub fn screenshots_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(SCREENSHOTS_VAR).filter(|d| !d.is_empty())?);
    if dir.is_absolute() {
        return Some(dir);
    }
    // This crate sits at <workspace>/crates/keyward-testing.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Some(workspace.canonicalize().unwrap_or(workspace).join(dir))
}

/// Clicks `element` (found by `selector`, for the message).
pub async fn click(element: &Element, selector: &str) {
    let what = format!("click {selector}");
    step(&what, element.click())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
}

/// `future`, bounded to [`STEP_TIMEOUT`].
///
/// # Panics
///
/// When it takes longer; the message names `what`.
pub async fn step<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP_TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: took longer than {STEP_TIMEOUT:?}"))
}

/// The session's capabilities: headless Chromium with a fresh profile and nothing that
/// reaches beyond loopback (no updates, sync or background fetches).
fn capabilities(chromium: &Path, profile: &Path) -> fantoccini::wd::Capabilities {
    let args = [
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        "--window-size=1280,900".to_owned(),
    ];
    let millis = u64::try_from(STEP_TIMEOUT.as_millis()).unwrap_or(u64::MAX);
    let value = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": args,
        },
        // A dialog nobody expected stays open and fails the next command, instead of
        // being dismissed silently (a confirm() dismissed would cancel an action).
        "unhandledPromptBehavior": "ignore",
        "timeouts": { "pageLoad": millis, "script": millis, "implicit": 0 },
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const PAGE: &str = "<!doctype html><title>probe</title>\
        <p data-testid=greeting>Hello from loopback</p>\
        <button id=ask>ask</button>\
        <script>document.getElementById('ask').onclick = () => confirm('sure?');</script>";

    /// A one-page HTTP server on loopback.
    async fn serve_page() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                         set-cookie: probe=yes; HttpOnly; Path=/\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{PAGE}",
                        PAGE.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        addr
    }

    #[test]
    fn a_missing_chromedriver_is_named() {
        // Checked without touching the environment: a path that is no executable.
        assert_eq!(executable(PathBuf::from("/nonexistent/chromedriver")), None);
        assert_eq!(on_path("keyward-no-such-binary"), None);
        let why = ToolsMissing("no chromedriver on PATH".into()).to_string();
        assert!(why.contains("chromedriver"), "{why}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drives_a_page_and_stops_with_the_driver() {
        let Some(browser) = Browser::start_or_skip().await else {
            return;
        };
        let addr = serve_page().await;
        browser.goto(&format!("http://{addr}/probe")).await;
        assert_eq!(browser.path().await, "/probe");
        assert_eq!(
            browser.text("[data-testid=greeting]").await,
            "Hello from loopback"
        );
        assert!(!browser.exists("[data-testid=absent]").await);
        assert_eq!(browser.cookie("probe").await.as_deref(), Some("yes"));
        assert_eq!(browser.dialog().await, None);
        browser.click("#ask").await;
        assert_eq!(browser.accept_dialog().await.as_deref(), Some("sure?"));
        assert_eq!(browser.dialog().await, None);
        let png = browser.screenshot().await;
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let driver = browser.driver_addr();
        let profile = browser.driver.profile.as_ref().unwrap().path().to_owned();
        assert!(
            profile.join("Default").is_dir(),
            "Chromium uses the fresh profile"
        );
        drop(browser);
        assert!(
            TcpStream::connect_timeout(&driver, Duration::from_secs(1)).is_err(),
            "chromedriver still listens after the browser was dropped"
        );
        assert!(!profile.exists(), "the profile outlived the browser");
    }
}
