//! Stage 5, run: runs section programs as processes with a time limit and splits what they
//! print into cells at the markers of [`d2l_capture`].

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use d2l_capture::{Marker, NONCE_ENV, OUT_DIR_ENV, SCALE_ENV, Scale, parse_marker};
use wait_timeout::ChildExt;

use crate::cache::{Output, scale_name};
use crate::diag::Location;
use crate::parse::Page;
use crate::program::SectionProgram;

/// Why a section did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// It ran past its time limit and was stopped.
    #[error("{section}: stopped after {seconds} s, the time limit{}", .cell.as_ref().map(|c| format!(", in the cell at {c}")).unwrap_or_default())]
    Timeout {
        /// `chapter/section (framework)`.
        section: String,
        /// The limit.
        seconds: u64,
        /// The cell that was running.
        cell: Option<Location>,
    },
    /// It panicked or exited with an error.
    #[error("{section}: {}{}\n{stderr}", .cell.as_ref().map(|c| format!("the cell at {c} failed")).unwrap_or_else(|| "failed before its first cell".into()), .panic_at.as_ref().map(|p| format!(" (panic at {p})")).unwrap_or_default())]
    Failed {
        /// `chapter/section (framework)`.
        section: String,
        /// The cell that was running.
        cell: Option<Location>,
        /// Where the panic happened, mapped to the book.
        panic_at: Option<Location>,
        /// The end of what it printed on stderr.
        stderr: String,
    },
}

/// How to run one section program.
pub struct Job<'a> {
    /// The page.
    pub page: &'a Page,
    /// The program.
    pub program: &'a SectionProgram,
    /// The built chapter binary.
    pub binary: PathBuf,
    /// Folder for the images it displays (emptied first).
    pub out_dir: PathBuf,
    /// Scale.
    pub scale: Scale,
    /// Time limit.
    pub timeout: Duration,
}

impl Job<'_> {
    fn command(&self, nonce: &str) -> anyhow::Result<Command> {
        if self.out_dir.exists() {
            std::fs::remove_dir_all(&self.out_dir).with_context(|| format!("failed to clear `{}`", self.out_dir.display()))?;
        }
        std::fs::create_dir_all(&self.out_dir)?;
        let mut cmd = Command::new(&self.binary);
        cmd.arg(&self.program.selector)
            .env(NONCE_ENV, nonce)
            .env(OUT_DIR_ENV, &self.out_dir)
            .env(SCALE_ENV, scale_name(self.scale))
            .env("RUST_BACKTRACE", "0")
            .current_dir(&self.out_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Ok(cmd)
    }

    fn name(&self) -> String {
        format!("{} ({})", self.page.src.with_extension("").display(), self.program.framework)
    }

    fn cell_location(&self, cell: Option<usize>) -> Option<Location> {
        cell.map(|c| self.page.location_of_line(self.page.cells[c].line))
    }
}

fn nonce() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{:x}{:x}", t.as_nanos(), std::process::id())
}

/// A line from one of the two streams.
enum Line {
    Out(String),
    Err(String),
}

fn pump(stream: impl Read + Send + 'static, tx: mpsc::Sender<Line>, wrap: fn(String) -> Line) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
            let _ = tx.send(wrap(String::from_utf8_lossy(&buf).into_owned()));
            buf.clear();
        }
    })
}

/// Runs the job; `on_line` sees every line as it comes (for the terminal), and the result is
/// every cell's outputs.
fn run_with(job: &Job<'_>, mut on_event: impl FnMut(Event<'_>)) -> anyhow::Result<BTreeMap<usize, Vec<Output>>> {
    let nonce = nonce();
    let mut child = job.command(&nonce)?.spawn().with_context(|| format!("failed to start `{}`", job.binary.display()))?;
    let (tx, rx) = mpsc::channel();
    let readers = [pump(child.stdout.take().expect("piped"), tx.clone(), Line::Out), pump(child.stderr.take().expect("piped"), tx, Line::Err)];
    let started = Instant::now();
    let mut outputs: BTreeMap<usize, Vec<Output>> = BTreeMap::new();
    // Each stream is split at its own markers: the two arrive on separate threads.
    let (mut current, mut current_err): (Option<usize>, Option<usize>) = (None, None);
    let mut stderr_tail = String::new();
    let mut timed_out = false;
    loop {
        let left = job.timeout.saturating_sub(started.elapsed());
        match rx.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(line) => {
                let (text, is_err) = match &line {
                    Line::Out(t) => (t, false),
                    Line::Err(t) => (t, true),
                };
                match parse_marker(&nonce, text.trim_end_matches(['\n', '\r'])) {
                    Some(Marker::Cell(c)) if c < job.page.cells.len() => {
                        if is_err {
                            current_err = Some(c);
                        } else {
                            current = Some(c);
                            on_event(Event::Cell(c));
                        }
                    }
                    Some(Marker::Image(name)) => {
                        let path = job.out_dir.join(name);
                        let svg = std::fs::read_to_string(&path).with_context(|| format!("the program displayed `{}`, which cannot be read", path.display()))?;
                        on_event(Event::Image(&path));
                        if let Some(c) = current {
                            outputs.entry(c).or_default().push(Output::Svg { svg });
                        }
                    }
                    Some(Marker::Cell(_)) => {}
                    None => {
                        on_event(Event::Text(text, is_err));
                        if is_err {
                            stderr_tail.push_str(text);
                            if stderr_tail.len() > 8000 {
                                stderr_tail.drain(..stderr_tail.len() - 8000);
                            }
                        }
                        if let Some(c) = if is_err { current_err } else { current } {
                            append(outputs.entry(c).or_default(), text, is_err);
                        }
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if started.elapsed() >= job.timeout => {
                timed_out = true;
                let _ = child.kill();
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = child.wait_timeout(Duration::from_secs(5))?.map_or_else(|| child.kill().and_then(|()| child.wait()), Ok)?;
    for r in readers {
        let _ = r.join();
    }
    let current = current.max(current_err);
    if timed_out {
        return Err(RunError::Timeout { section: job.name(), seconds: job.timeout.as_secs(), cell: job.cell_location(current) }.into());
    }
    if !status.success() {
        let panic_at = panic_location(&stderr_tail, job.program);
        return Err(RunError::Failed { section: job.name(), cell: job.cell_location(current), panic_at, stderr: stderr_tail.trim_end().to_string() }.into());
    }
    Ok(outputs)
}

/// What a running section shows, as it happens.
pub enum Event<'a> {
    /// A cell starts.
    Cell(usize),
    /// A line of text (stderr when the flag is set).
    Text(&'a str, bool),
    /// An image was displayed.
    Image(&'a Path),
}

fn append(outputs: &mut Vec<Output>, text: &str, is_err: bool) {
    match (outputs.last_mut(), is_err) {
        (Some(Output::Stdout { text: t }), false) | (Some(Output::Stderr { text: t }), true) => t.push_str(text),
        _ if is_err => outputs.push(Output::Stderr { text: text.to_string() }),
        _ => outputs.push(Output::Stdout { text: text.to_string() }),
    }
}

/// `panicked at path/to/file.rs:12:5` in stderr, mapped to the book when the file is the
/// section's generated module.
fn panic_location(stderr: &str, program: &SectionProgram) -> Option<Location> {
    let rest = stderr.split("panicked at ").nth(1)?;
    let place = rest.split([':', '\n']).take(3).collect::<Vec<_>>();
    let [file, line, col] = place.as_slice() else { return None };
    let name = program.file.file_name()?.to_str()?;
    if !file.ends_with(name) {
        return None;
    }
    program.code.locate(line.parse().ok()?, col.trim().parse().ok()?)
}

/// Runs a section and collects its outputs.
pub fn capture(job: &Job<'_>) -> anyhow::Result<BTreeMap<usize, Vec<Output>>> {
    run_with(job, |_| {})
}

/// Runs a section in the terminal: a header per cell, text as it comes, image paths.
pub fn stream(job: &Job<'_>) -> anyhow::Result<()> {
    run_with(job, |event| match event {
        Event::Cell(c) => {
            let cell = &job.page.cells[c];
            println!("\x1b[1m── [{}] {}:{} ──\x1b[0m", c, job.page.shown.display(), cell.line);
        }
        Event::Text(text, false) => print!("{text}"),
        Event::Text(text, true) => eprint!("{text}"),
        Event::Image(path) => println!("[image: {}]", path.display()),
    })
    .map(|_| ())
}
