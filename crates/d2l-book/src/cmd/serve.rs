//! `d2l-book serve`: build, serve the site on 127.0.0.1, rebuild when sources change.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use notify::{RecursiveMode, Watcher};

use crate::cache::Scale;
use crate::pipeline;

/// Serves the book; blocks until the process is stopped.
pub fn serve(book_dir: &Path, features: Option<&[String]>, port: u16, scale: Scale) -> anyhow::Result<()> {
    let paths = pipeline::build_book(book_dir, features, scale, None, true)?;
    let generation = Arc::new(AtomicU64::new(1));
    let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| anyhow::anyhow!("{e}")).with_context(|| format!("failed to listen on 127.0.0.1:{port}: is another server using it? try `--port`"))?;
    eprintln!("serving {} at http://127.0.0.1:{port}/ (Ctrl-C stops)", paths.html.display());
    let html = paths.html.clone();
    let served = Arc::clone(&generation);
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let _ = respond(request, &html, &served);
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx)?;
    let lib = book_dir.join(crate::config::BookConfig::load(book_dir)?.library.path);
    watcher.watch(book_dir, RecursiveMode::Recursive)?;
    watcher.watch(&lib.join("src"), RecursiveMode::Recursive)?;
    let outputs = crate::workspace::absolute(&book_dir.join("_outputs"))?;
    let generated = crate::workspace::absolute(&lib.join("src/generated"))?;
    loop {
        let event: notify::Event = rx.recv()??;
        // Our own writes (outputs, generated library) must not trigger another build.
        let ours = |p: &PathBuf| p.starts_with(&outputs) || p.starts_with(&generated) || p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".tmp"));
        let edits = matches!(event.kind, notify::EventKind::Create(_) | notify::EventKind::Modify(_) | notify::EventKind::Remove(_));
        if !edits || event.paths.iter().all(ours) {
            continue;
        }
        std::thread::sleep(Duration::from_millis(200));
        while rx.try_recv().is_ok() {}
        eprintln!("change detected: rebuilding");
        match pipeline::build_book(book_dir, features, scale, None, true) {
            Ok(_) => {
                generation.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => eprintln!("error: {e:#}"),
        }
        while rx.try_recv().is_ok() {}
    }
}

fn respond(request: tiny_http::Request, root: &Path, generation: &AtomicU64) -> std::io::Result<()> {
    let url = request.url().split(['?', '#']).next().unwrap_or("/").to_string();
    if url == "/__d2l_build" {
        return request.respond(tiny_http::Response::from_string(generation.load(Ordering::SeqCst).to_string()));
    }
    let rel = url.trim_start_matches('/');
    let mut path = root.join(rel);
    if rel.split('/').any(|part| part == "..") {
        return request.respond(tiny_http::Response::empty(403));
    }
    if path.is_dir() {
        path = path.join("index.html");
    }
    match std::fs::read(&path) {
        Ok(bytes) => {
            let mime = match path.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css",
                Some("js") => "text/javascript",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => "application/octet-stream",
            };
            let header = tiny_http::Header::from_bytes("Content-Type", mime).expect("valid header");
            request.respond(tiny_http::Response::from_data(bytes).with_header(header))
        }
        Err(_) => request.respond(tiny_http::Response::from_string("not found").with_status_code(404)),
    }
}
