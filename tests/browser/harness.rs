//! Launch headless Chromium (Debian's `chromium`) with a fresh profile, and
//! small waits that poll the page. When Chromium is missing the tests say so
//! loudly and skip — except under `CI=true`, where they fail.

use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::input::{
    DispatchKeyEventParams, DispatchKeyEventType, DispatchMouseEventParams, DispatchMouseEventType,
    InsertTextParams, MouseButton,
};
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::JoinHandle;

pub struct Chromium {
    pub browser: Browser,
    events: JoinHandle<()>,
    _profile: tempfile::TempDir,
}

fn executable() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some("/usr/bin/chromium".into()),
    ];
    candidates.into_iter().flatten().find(|p| p.exists())
}

impl Chromium {
    /// `None` (with a loud message) when no Chromium is installed outside CI.
    pub async fn launch() -> Option<Chromium> {
        let Some(exe) = executable() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("Chromium is required under CI=true: apt-get install -y chromium");
            }
            eprintln!(
                "\n*** SKIPPING BROWSER TEST: chromium is not installed (apt-get install -y chromium) ***\n"
            );
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        // chromiumoxide adds the leading `--` itself.
        let config = BrowserConfig::builder()
            .chrome_executable(exe)
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(1280, 900)
            .viewport(None)
            .args([
                "headless",
                "disable-gpu",
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
                "no-first-run",
                "disable-quic",
            ])
            .build()
            .unwrap();
        let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Some(Chromium {
            browser,
            events,
            _profile: profile,
        })
    }

    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.events.abort();
    }
}

/// Wait until the page's URL satisfies `ok`, for up to 10 s.
pub async fn wait_for_url(page: &Page, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(Some(url)) = page.url().await {
            if ok(&url) {
                // Let the new document finish loading before acting on it.
                let _ = page.wait_for_navigation().await;
                return url;
            }
            last = url;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for the URL; last was {last}");
}

/// Type into the field matching `selector`. Text goes in as an input method
/// would send it (`Input.insertText`), so accents and emoji arrive intact.
pub async fn fill(page: &Page, selector: &str, text: &str) {
    page.find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("no field {selector}: {e}"))
        .click()
        .await
        .unwrap();
    page.execute(InsertTextParams::new(text)).await.unwrap();
}

/// Click the element matching `selector`.
pub async fn click(page: &Page, selector: &str) {
    page.find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("nothing matches {selector}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Save a full-page PNG under target/screenshots/ for people to look at.
pub async fn screenshot(page: &Page, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    page.save_screenshot(
        ScreenshotParams::builder().full_page(true).build(),
        dir.join(format!("{name}.png")),
    )
    .await
    .unwrap();
}

/// Press a key as the keyboard would (`key` as in `KeyboardEvent.key`,
/// `code` as in `KeyboardEvent.code`); `modifiers`: 1 Alt, 2 Ctrl, 4 Meta,
/// 8 Shift. Printable keys carry their text.
pub async fn press(page: &Page, key: &str, code: &str, vk: i64, modifiers: i64) {
    let printable = key.chars().count() == 1 && modifiers & 0b0111 == 0;
    let mut down = DispatchKeyEventParams::builder()
        .r#type(if printable {
            DispatchKeyEventType::KeyDown
        } else {
            DispatchKeyEventType::RawKeyDown
        })
        .key(key)
        .code(code)
        .windows_virtual_key_code(vk)
        .modifiers(modifiers);
    if printable {
        down = down.text(key);
    }
    page.execute(down.build().unwrap()).await.unwrap();
    let up = DispatchKeyEventParams::builder()
        .r#type(DispatchKeyEventType::KeyUp)
        .key(key)
        .code(code)
        .windows_virtual_key_code(vk)
        .modifiers(modifiers)
        .build()
        .unwrap();
    page.execute(up).await.unwrap();
}

/// Evaluate `js` until it answers true, for up to 10 s.
pub async fn wait_until(page: &Page, js: &str) {
    for _ in 0..200 {
        if let Ok(v) = page.evaluate(js).await
            && v.into_value::<bool>().unwrap_or(false)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {js}");
}

/// Press the left mouse button at `from`, move to `to` in a few steps and
/// release it there, as a hand would (viewport coordinates).
pub async fn mouse_drag(page: &Page, from: (f64, f64), to: (f64, f64)) {
    let event = |kind: DispatchMouseEventType, (x, y): (f64, f64), buttons: i64| {
        DispatchMouseEventParams::builder()
            .r#type(kind)
            .x(x)
            .y(y)
            .button(MouseButton::Left)
            .buttons(buttons)
            .click_count(1)
            .build()
            .unwrap()
    };
    page.execute(event(DispatchMouseEventType::MouseMoved, from, 0))
        .await
        .unwrap();
    page.execute(event(DispatchMouseEventType::MousePressed, from, 1))
        .await
        .unwrap();
    for i in 1..=8 {
        let t = f64::from(i) / 8.0;
        let at = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
        page.execute(event(DispatchMouseEventType::MouseMoved, at, 1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    page.execute(event(DispatchMouseEventType::MouseReleased, to, 0))
        .await
        .unwrap();
}

/// The viewport point just inside the left edge of the character `k`
/// characters after the start of `needle` in the transcript (so a press
/// there puts the caret before that character).
pub async fn text_point(page: &Page, needle: &str, k: usize) -> (f64, f64) {
    let js = format!(
        "(() => {{ const n = {needle}; const a = document.getElementById('transcript');
           const el = [...a.querySelectorAll('[data-s]')].find(e => e.firstChild && e.firstChild.data.includes(n));
           const t = el.firstChild; const i = t.data.indexOf(n) + {k};
           const r = document.createRange(); r.setStart(t, i); r.setEnd(t, i + 1);
           const b = r.getClientRects()[0]; return [b.left + 1, b.top + b.height / 2]; }})()",
        needle = serde_json::to_string(needle).unwrap()
    );
    let v: Vec<f64> = page.evaluate(js).await.unwrap().into_value().unwrap();
    (v[0], v[1])
}

/// Evaluate `js` and read its answer as `T`.
pub async fn eval<T: serde::de::DeserializeOwned>(page: &Page, js: &str) -> T {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .into_value()
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

/// Save a PNG of what the window shows (not the whole page) under
/// target/screenshots/.
pub async fn screenshot_view(page: &Page, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    page.save_screenshot(
        ScreenshotParams::builder().full_page(false).build(),
        dir.join(format!("{name}.png")),
    )
    .await
    .unwrap();
}

/// Sign `email` in through the login form on a new page, then open `path`.
pub async fn open_signed_in(
    chromium: &Chromium,
    app: &crate::helpers::TestApp,
    email: &str,
    path: &str,
) -> Page {
    let page = chromium.browser.new_page(app.url("/login")).await.unwrap();
    fill(&page, "input[name=email]", email).await;
    fill(&page, "input[name=password]", crate::helpers::PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;
    page.goto(app.url(path)).await.unwrap();
    wait_for_url(&page, |u| u.contains(path)).await;
    page
}
