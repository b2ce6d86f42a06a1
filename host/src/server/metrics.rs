//! The optional Prometheus endpoint (`--metrics 127.0.0.1:PORT`): any
//! HTTP request gets the counters in Prometheus text format.

use super::Shared;
use core::sync::atomic::Ordering;
use std::io::{Read, Write};
use std::net::TcpListener;

/// The metrics page.
pub(crate) fn text(shared: &Shared) -> String {
    let s = &shared.stats;
    let view = shared.engine.store().view();
    let syncs = shared.engine.store().sync_stats();
    let auto = shared.engine.store().auto_checkpoints();
    let rows: [(&str, &str, &str, u64); 15] = [
        (
            "bindspace_connected_clients",
            "gauge",
            "Clients connected now.",
            s.clients.load(Ordering::Relaxed) as u64,
        ),
        (
            "bindspace_connections_total",
            "counter",
            "Connections accepted.",
            s.connections_total.load(Ordering::Relaxed),
        ),
        (
            "bindspace_rejected_connections_total",
            "counter",
            "Connections turned away (max clients).",
            s.rejected_total.load(Ordering::Relaxed),
        ),
        (
            "bindspace_commands_total",
            "counter",
            "Requests answered.",
            s.commands_total.load(Ordering::Relaxed),
        ),
        (
            "bindspace_error_replies_total",
            "counter",
            "Error replies sent.",
            s.errors_total.load(Ordering::Relaxed),
        ),
        (
            "bindspace_ops_per_second",
            "gauge",
            "Requests answered in the last second.",
            s.ops_per_sec.load(Ordering::Relaxed),
        ),
        (
            "bindspace_entries",
            "gauge",
            "Entries stored (expired ones not yet purged included).",
            view.len() as u64,
        ),
        (
            "bindspace_last_seq",
            "gauge",
            "Sequence number of the last commit readers see.",
            view.seq(),
        ),
        (
            "bindspace_log_syncs_total",
            "counter",
            "Log fdatasyncs that made commits durable.",
            syncs.syncs,
        ),
        (
            "bindspace_log_synced_commits_total",
            "counter",
            "Commits made durable by those syncs (over the syncs: commits per sync).",
            syncs.commits,
        ),
        (
            "bindspace_log_sync_microseconds_total",
            "counter",
            "Time spent in those syncs.",
            u64::try_from(syncs.sync_time.as_micros()).unwrap_or(u64::MAX),
        ),
        (
            "bindspace_log_gather_microseconds_total",
            "counter",
            "Time sync leaders spent gathering committers before those syncs.",
            u64::try_from(syncs.gather_time.as_micros()).unwrap_or(u64::MAX),
        ),
        (
            "bindspace_auto_checkpoints_total",
            "counter",
            "Automatic checkpoints that ran.",
            auto.runs,
        ),
        (
            "bindspace_auto_checkpoint_failures_total",
            "counter",
            "Automatic checkpoints that failed (each asked for again at the next rotation).",
            auto.failures,
        ),
        (
            "bindspace_resident_bytes",
            "gauge",
            "Resident memory of the server process.",
            super::info::resident_bytes().unwrap_or(0),
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in rows {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    out
}

/// Answers HTTP requests on `listener` (non-blocking, so the stop flag
/// is seen) until the server stops: at most one scrape's timeouts after
/// the flag is set, which bounds how long shutdown waits for this thread.
pub(crate) fn serve(listener: TcpListener, shared: &Shared) {
    while !shared.stop.load(Ordering::Acquire) {
        let Ok((mut stream, _)) = listener.accept() else {
            std::thread::sleep(core::time::Duration::from_millis(20));
            continue;
        };
        let _ = stream.set_nonblocking(false);
        // One connection at a time: a scraper sends its request at once,
        // and one that does not (or reads nothing) holds the next scrape
        // up for a quarter of a second, not seconds.
        let _ = stream.set_read_timeout(Some(core::time::Duration::from_millis(250)));
        let _ = stream.set_write_timeout(Some(core::time::Duration::from_millis(250)));
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let body = text(shared);
        // One write of a few KiB: the socket's send buffer takes it all,
        // so a scraper that never reads does not hold this thread either.
        let page = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(page.as_bytes());
    }
}
