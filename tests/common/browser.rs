//! Headless Chromium for the HTML reports: the DOM after the page's scripts ran (`--dump-dom`), and screenshots.
//!
//! Chromium is found on PATH (`chromium`, `chromium-browser`, `google-chrome`) or at `BEDROCK_EVAL_CHROMIUM`. When it
//! is missing the browser tests fail — `.ci/run` installs it — unless `BEDROCK_EVAL_SKIP_BROWSER=1` is set, when
//! they say loudly that they were skipped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Longest a single Chromium invocation may take before the test gives up on it.
const CHROMIUM_DEADLINE: Duration = Duration::from_secs(120);

/// Time the page's scripts get (Chromium's virtual time) before the DOM is dumped or the screenshot taken.
const VIRTUAL_TIME_BUDGET_MS: u32 = 10_000;

/// A headless Chromium.
pub struct Browser {
    program: PathBuf,
}

/// A page's DOM after its scripts ran, and what Chromium logged while loading it.
pub struct Dom {
    /// The parsed DOM.
    pub document: scraper::Html,
    /// Chromium's log (console messages included).
    pub log: String,
}

impl Browser {
    /// Chromium, or `None` (with a loud message) when it is missing and `BEDROCK_EVAL_SKIP_BROWSER=1`; panics when
    /// it is missing otherwise.
    pub fn find() -> Option<Browser> {
        let configured = std::env::var_os("BEDROCK_EVAL_CHROMIUM").map(PathBuf::from);
        let found = configured.or_else(|| {
            ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .find_map(|name| on_path(name))
        });
        match found {
            Some(program) => Some(Browser { program }),
            None if std::env::var("BEDROCK_EVAL_SKIP_BROWSER").as_deref() == Ok("1") => {
                eprintln!(
                    "\n*** BROWSER TEST SKIPPED: no chromium on PATH and BEDROCK_EVAL_SKIP_BROWSER=1. The HTML reports \
                     were NOT checked in a browser. ***\n"
                );
                None
            }
            None => panic!(
                "the browser tests need headless Chromium: install it (`apt-get install -y --no-install-recommends \
                 chromium`, as .ci/run does), point BEDROCK_EVAL_CHROMIUM at it, or set BEDROCK_EVAL_SKIP_BROWSER=1 \
                 to skip these tests locally"
            ),
        }
    }

    /// Chromium with a fresh profile in `profile`, headless, offline: no background networking, no component
    /// updates, no sync, no QUIC.
    fn command(&self, profile: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
            .stdin(Stdio::null());
        command
    }

    /// The DOM of `page` opened at `#fragment`, after its scripts ran.
    pub fn dom(&self, page: &Path, fragment: &str) -> Dom {
        let profile = tempfile::tempdir().unwrap();
        let mut command = self.command(profile.path());
        command.arg("--dump-dom").arg(file_url(page, fragment));
        let output = run_bounded(command);
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "chromium failed on {}: {log}", page.display());
        Dom {
            document: scraper::Html::parse_document(&String::from_utf8_lossy(&output.stdout)),
            log,
        }
    }

    /// A PNG screenshot of `page` at `#fragment` in a `width` × `height` window.
    pub fn screenshot(&self, page: &Path, fragment: &str, width: u32, height: u32) -> Vec<u8> {
        let profile = tempfile::tempdir().unwrap();
        let shot = profile.path().join("screenshot.png");
        let mut command = self.command(profile.path());
        command
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("--window-size={width},{height}"))
            .arg(file_url(page, fragment));
        let output = run_bounded(command);
        assert!(
            output.status.success(),
            "chromium could not take a screenshot of {}: {}",
            page.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read(&shot).expect("chromium wrote the screenshot")
    }

    /// Takes a screenshot of `page` as a reviewer's window shows it (1400 × 1800) and asserts it is not blank: many
    /// colours (text, charts, badges), and more than a twentieth of it unlike the background.
    pub fn assert_screenshot_not_blank(&self, page: &Path) {
        let (colours, share) = screenshot_content(&self.screenshot(page, "", 1400, 1800));
        assert!(
            colours > 100,
            "{colours} colours in the screenshot of {}",
            page.display()
        );
        assert!(
            share > 0.05,
            "{:.1}% of the screenshot of {} differs from its background",
            share * 100.0,
            page.display()
        );
    }
}

impl Dom {
    /// The elements matching a CSS selector.
    pub fn select(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let selector = scraper::Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"));
        self.document.select(&selector).collect()
    }

    /// The one element matching a CSS selector.
    pub fn one(&self, css: &str) -> scraper::ElementRef<'_> {
        let found = self.select(css);
        assert_eq!(found.len(), 1, "{} elements match {css}", found.len());
        found[0]
    }

    /// An attribute of `<html>`.
    pub fn root_attribute(&self, name: &str) -> Option<String> {
        self.document.root_element().value().attr(name).map(str::to_string)
    }

    /// Asserts the page finished rendering with no script error: none recorded by the page on `<html>`, none in
    /// Chromium's console log (uncaught errors, content-security-policy refusals).
    pub fn assert_rendered_without_errors(&self) {
        assert_eq!(
            self.root_attribute("data-script-errors"),
            None,
            "the page recorded script errors"
        );
        assert_eq!(
            self.root_attribute("data-ready").as_deref(),
            Some("true"),
            "the page did not finish rendering"
        );
        for line in self.log.lines() {
            assert!(
                !line.contains("Uncaught") && !line.contains("Content Security Policy") && !line.contains("Refused to"),
                "chromium logged: {line}"
            );
        }
    }
}

/// The text of an element, all descendants' text joined.
pub fn text(element: scraper::ElementRef<'_>) -> String {
    element.text().collect()
}

/// The text of an element without the text inside descendants matching `skip` (e.g. `del` for a diff's new side).
pub fn text_without(element: scraper::ElementRef<'_>, skip: &str) -> String {
    let mut out = String::new();
    for child in element.children() {
        if let Some(text) = child.value().as_text() {
            out.push_str(text);
        } else if let Some(child) = scraper::ElementRef::wrap(child) {
            if child.value().name() != skip {
                out.push_str(&text_without(child, skip));
            }
        }
    }
    out
}

/// What a screenshot shows: its distinct colours and the share of pixels unlike its top-left (background) pixel.
fn screenshot_content(png_bytes: &[u8]) -> (usize, f64) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG screenshot");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a PNG of sensible size")];
    let info = reader.next_frame(&mut buffer).expect("the screenshot's pixels");
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buffer[..info.buffer_size()].chunks(channels).collect();
    let background = pixels[0];
    let distinct: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    let different = pixels.iter().filter(|p| **p != background).count();
    (distinct.len(), different as f64 / pixels.len() as f64)
}

/// `file://` URL of a local page, with a fragment.
pub fn file_url(page: &Path, fragment: &str) -> String {
    let path = std::fs::canonicalize(page).expect("the page exists");
    let mut url = String::from("file://");
    for byte in path.to_str().expect("a UTF-8 path").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => url.push(byte as char),
            other => url.push_str(&format!("%{other:02X}")),
        }
    }
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// Runs a command to completion, killing it (by its PID) if it outlives [`CHROMIUM_DEADLINE`].
fn run_bounded(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let stdout = child.stdout.take().expect("chromium's stdout");
    let stderr = child.stderr.take().expect("chromium's stderr");
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let (stdout, stderr) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let status = crate::common::wait_bounded(&mut child, CHROMIUM_DEADLINE);
    Output {
        status,
        stdout: stdout.join().expect("read chromium's stdout"),
        stderr: stderr.join().expect("read chromium's stderr"),
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}
