//! Headless Chromium for the page tests: Debian's `chromedriver` on a free port as a child process (in its own
//! process group, killed with the browser it started when the harness is dropped, a panic included), a WebDriver
//! session through fantoccini with a fresh profile, and the checks every page gets. Without Chromium the tests fail
//! under `CI=true` (`.ci/run` installs it) and say loudly that they were skipped elsewhere.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The flags of a quiet headless browser: no sandbox (tests run as root), and none of the background traffic to
/// Google's services that a closed network would only time out.
const FLAGS: [&str; 9] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// A chromedriver child; dropping it kills its process group (chromedriver and the Chromium it started).
struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (`process_group(0)`): `kill -KILL -<pgid>` reaches the browser too.
        let _ =
            Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session. Fields drop in order: the session's client, then chromedriver, then the profile directory.
pub(crate) struct Browser {
    pub(crate) client: Client,
    _driver: Driver,
    profile: tempfile::TempDir,
}

impl Browser {
    /// A headless Chromium whose pages are drawn `width`×`height` CSS pixels large, or `None` (said on stderr) when Chromium or chromedriver
    /// is not installed; under `CI=true` that is a failure instead.
    pub(crate) async fn open(width: u32, height: u32) -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
        if !missing.is_empty() {
            let why = format!(
                "{} not installed: `apt-get install chromium chromium-driver` (Debian's packages) brings them",
                missing.join(" and ")
            );
            assert!(std::env::var("CI").as_deref() != Ok("true"), "the browser tests need Chromium under CI: {why}");
            // Straight to the standard error, past the test harness's capture of `eprintln!`.
            let note = format!("\n======== SKIPPED: browser test not run: {why} ========\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
            return None;
        }
        let profile = tempfile::tempdir().unwrap();
        let log = profile.path().join("chromedriver.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("{CHROMEDRIVER} does not start: {e}"))
        };
        let driver = Driver { child };
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&url, &log).await;

        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().join("profile").display()));
        args.push(format!("--window-size={width},{height}"));
        let capabilities = json!({
            "browserName": "chrome",
            // An alert stays open for the test to see, rather than being dismissed.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("no browser session: {e}\nchromedriver's log:\n{}", tail(&log)));
        let browser = Browser { client, _driver: driver, profile };
        browser.set_viewport(width, height).await;
        Some(browser)
    }

    /// Makes the page's viewport `width`×`height` CSS pixels: the window is that much larger than its viewport.
    async fn set_viewport(&self, width: u32, height: u32) {
        let inner = || async {
            let size = self.js("return [window.innerWidth, window.innerHeight];").await;
            (size[0].as_u64().unwrap(), size[1].as_u64().unwrap())
        };
        let (outer_w, outer_h) = self.client.get_window_size().await.unwrap();
        let (inner_w, inner_h) = inner().await;
        let (w, h) = (u64::from(width) + outer_w - inner_w, u64::from(height) + outer_h - inner_h);
        self.client.set_window_size(w as u32, h as u32).await.unwrap();
        assert_eq!(inner().await, (u64::from(width), u64::from(height)), "the viewport");
    }

    /// Ends the session (chromedriver closes the browser); the drop that follows kills whatever is left.
    pub(crate) async fn close(self) {
        let Browser { client, _driver: driver, profile } = self;
        client.close().await.unwrap();
        drop(driver);
        drop(profile);
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    /// The elements `css` selects.
    pub(crate) async fn all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// The one element `css` selects first.
    pub(crate) async fn one(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("{css} on {}: {e}", self.location().await),
        }
    }

    /// The rendered text of the element `css` selects first.
    pub(crate) async fn text(&self, css: &str) -> String {
        self.one(css).await.text().await.unwrap()
    }

    /// The rendered texts of the elements `css` selects.
    pub(crate) async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for element in self.all(css).await {
            out.push(element.text().await.unwrap());
        }
        out
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub(crate) async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// The page's path and query.
    pub(crate) async fn location(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// What every page must be: no script element and no image (the pages have neither, so any is injected), no
    /// handler of an injected element having run (`window.__pwned`), no dialog open, the layout's footer drawn.
    pub(crate) async fn assert_nothing_injected(&self) {
        let at = self.location().await;
        if let Ok(text) = self.client.get_alert_text().await {
            panic!("{at}: a dialog is open: {text:?}");
        }
        assert_eq!(self.all("script").await.len(), 0, "{at}: a script element");
        assert_eq!(self.all("img").await.len(), 0, "{at}: an image element");
        assert_eq!(self.all("[onerror], [onload], [onclick]").await.len(), 0, "{at}: an element with a handler");
        assert_eq!(self.js("return window.__pwned === undefined;").await, Value::Bool(true), "{at}: __pwned set");
        assert!(self.text("footer").await.contains("data as of"), "{at}: the page was drawn to its end");
    }

    /// The page is no wider than the window: nothing to scroll sideways (tables scroll inside their own box), and no
    /// card's text runs past its border.
    pub(crate) async fn assert_no_horizontal_overflow(&self) {
        let at = self.location().await;
        let sizes = self
            .js("return [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth];")
            .await;
        let [page, body, window] = [0, 1, 2].map(|i| sizes[i].as_u64().unwrap());
        assert!(page <= window && body <= window, "{at}: the page is {page} (body {body}) wide in a {window} window");
        // Nor does text run out of the cards (a long name without spaces would, past their border).
        let spilled = self
            .js("return [...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth)\
                 .map(c => c.textContent.trim());")
            .await;
        assert_eq!(spilled, json!([]), "{at}: text wider than its card");
    }
}

/// Polls chromedriver's `/status` until it says it is ready (10 s at most).
async fn wait_until_ready(url: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let http = reqwest::Client::new();
    loop {
        if let Ok(response) = http.get(format!("{url}/status")).send().await
            && let Ok(status) = response.json::<Value>().await
            && status["value"]["ready"] == true
        {
            return;
        }
        assert!(Instant::now() < deadline, "chromedriver did not answer on {url}\n{}", tail(log));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The end of a log file, for a failure's message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
