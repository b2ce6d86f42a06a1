//! `INFO`: Redis-style sections (server, clients, memory, persistence,
//! stats) followed by the command language's own `# bindspace` section.

use super::engine::{ClientScratch, ClientSession};
use super::Shared;
use crate::store::RecoveryReport;
use bindspace_core::command::Reply;
use core::fmt::Write;
use core::sync::atomic::Ordering;
use std::time::UNIX_EPOCH;

/// The resident memory of this process in bytes (Linux), if known.
pub(crate) fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // statm counts pages of the kernel's size: 4 KiB on x86-64, but often
    // 16 or 64 KiB on ARM and POWER.
    let page = u64::try_from(rustix::param::page_size()).ok()?;
    pages.checked_mul(page)
}

/// The INFO text; `section` keeps one section (`server`, `clients`, ...).
pub(crate) fn render(
    shared: &Shared,
    session: &mut ClientSession,
    scratch: &mut ClientScratch,
    section: Option<&[u8]>,
) -> String {
    let stats = &shared.stats;
    let store = shared.engine.store();
    let view = store.view();
    let uptime = shared.started.elapsed();
    let commands = stats.commands_total.load(Ordering::Relaxed);
    let mut sections: Vec<(&str, String)> = Vec::new();
    let mut s = String::new();
    let _ = write!(
        s,
        "bindspace_version:{}\r\nos:{} {}\r\nprocess_id:{}\r\ntcp_port:{}\r\nlisten:{}\r\nuptime_in_seconds:{}\r\nkernel:{}\r\n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::process::id(),
        shared.bound.port(),
        shared.bound,
        uptime.as_secs(),
        crate::kernels::detected().name(),
    );
    sections.push(("server", s));
    let s = format!(
        "connected_clients:{}\r\nmaxclients:{}\r\ntotal_connections_received:{}\r\nrejected_connections:{}\r\nmax_request_bytes:{}\r\nidle_timeout_seconds:{}\r\n",
        stats.clients.load(Ordering::Relaxed),
        shared.config.max_clients,
        stats.connections_total.load(Ordering::Relaxed),
        stats.rejected_total.load(Ordering::Relaxed),
        shared.config.max_request,
        shared.config.idle_timeout.as_secs(),
    );
    sections.push(("clients", s));
    let fp_bytes = view.len() * store.width().words() * 8;
    let s = format!(
        "used_memory_rss:{}\r\nfingerprint_bytes:{}\r\nentries_stored:{}\r\n",
        resident_bytes().unwrap_or(0),
        fp_bytes,
        view.len(),
    );
    sections.push(("memory", s));
    let syncs = store.sync_stats();
    let mut s = format!(
        "data_dir:{}\r\nlast_seq:{}\r\n",
        shared.config.data_dir.display(),
        view.seq(),
    );
    recovery(&mut s, store.recovery());
    let _ = write!(
        s,
        "poisoned:{}\r\nlog_syncs:{}\r\nlog_synced_commits:{}\r\nlog_sync_microseconds:{}\r\nlog_gather_microseconds:{}\r\n",
        one_line(&store.poisoned().unwrap_or_else(|| "no".into())),
        syncs.syncs,
        syncs.commits,
        syncs.sync_time.as_micros(),
        syncs.gather_time.as_micros(),
    );
    let last = stats
        .last_compaction
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match last {
        Some((when, report)) => {
            let _ = write!(
                s,
                "last_compaction_time:{}\r\nlast_compaction_bytes_before:{}\r\nlast_compaction_bytes_after:{}\r\nlast_compaction_ms:{}\r\n",
                when.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
                report.bytes_before,
                report.bytes_after,
                report.elapsed.as_millis(),
            );
        }
        None => s.push_str("last_compaction_time:-1\r\n"),
    }
    let auto = store.auto_checkpoints();
    let _ = write!(
        s,
        "auto_checkpoints:{}\r\nauto_checkpoint_failures:{}\r\nauto_checkpoint_last_error:{}\r\n",
        auto.runs,
        auto.failures,
        one_line(auto.last_error.as_deref().unwrap_or("-")),
    );
    sections.push(("persistence", s));
    let s = format!(
        "total_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\naverage_ops_per_sec:{}\r\ntotal_error_replies:{}\r\nstore_errors:{}\r\n",
        commands,
        stats.ops_per_sec.load(Ordering::Relaxed),
        (commands as f64 / uptime.as_secs_f64().max(1e-3)) as u64,
        stats.errors_total.load(Ordering::Relaxed),
        stats.store_errors_total.load(Ordering::Relaxed),
    );
    sections.push(("stats", s));
    let core_info = match shared.engine.run(&[b"INFO"], session, scratch) {
        Ok(Reply::Bulk(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    let mut text = String::new();
    for (name, body) in &sections {
        if section.is_none_or(|want| want.eq_ignore_ascii_case(name.as_bytes())) {
            let mut title = name.to_string();
            title[..1].make_ascii_uppercase();
            let _ = write!(text, "# {title}\r\n{body}\r\n");
        }
    }
    if section.is_none_or(|want| want.eq_ignore_ascii_case(b"bindspace")) {
        text.push_str(&core_info);
    }
    text
}

/// What opening the store found and did: replayed, cut, skipped.
fn recovery(s: &mut String, r: &RecoveryReport) {
    let _ = write!(
        s,
        "recovered_batches:{}\r\nrecovered_segments:{}\r\nrecovered_from_snapshot:{}\r\n",
        r.batches,
        r.segments,
        u8::from(r.snapshot.is_some()),
    );
    match &r.torn_tail {
        Some((file, offset, bytes)) => {
            let _ = write!(
                s,
                "recovery_torn_tail:1\r\nrecovery_torn_tail_file:{}\r\nrecovery_torn_tail_offset:{offset}\r\nrecovery_torn_tail_bytes:{bytes}\r\n",
                one_line(&file.display().to_string()),
            );
        }
        None => s.push_str("recovery_torn_tail:0\r\n"),
    }
    if let Some(note) = &r.tail_note {
        let _ = write!(s, "recovery_tail_note:{}\r\n", one_line(note));
    }
    let _ = write!(s, "recovery_repaired_places:{}\r\n", r.dropped.len());
}

/// `text` as one INFO value: a line break would end the field early.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::resident_bytes;

    /// `VmRSS` of /proc/self/status, in bytes: the kernel's own count,
    /// in kB, whatever the page size.
    fn vm_rss() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .unwrap_or_else(|| panic!("no VmRSS in {status}"));
        let kb: u64 = line.trim().trim_end_matches("kB").trim().parse().unwrap();
        kb * 1024
    }

    /// The resident bytes agree with the kernel's VmRSS: pages counted at
    /// a wrong page size would be off by a factor of 4 or more (4 KiB
    /// against 16 or 64 KiB). Other tests allocate meanwhile, so the
    /// count is bracketed by a reading before and after, with slack.
    #[test]
    fn resident_bytes_agree_with_vm_rss() {
        let before = vm_rss();
        let resident = resident_bytes().expect("/proc/self/statm is readable");
        let after = vm_rss();
        let low = before.min(after) / 4 * 3;
        let high = before.max(after) / 4 * 5;
        assert!(
            (low..=high).contains(&resident),
            "resident {resident} bytes, VmRSS {before}..{after} bytes (page size {})",
            rustix::param::page_size()
        );
    }
}
