//! `centinela audit-log verify|export|prune`: check the hash chain, hand events to a
//! SIEM as JSON lines with ECS field names, and drop old events behind a signed
//! checkpoint.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use centinela_core::auditlog::Stored;
use centinela_core::timefmt::{days_from_civil, rfc3339};

use crate::args::AuditLogCommand;
use crate::context::{self, Context};

/// Events read per query while exporting.
const PAGE: i64 = 1000;

/// `--since`/`--before`: a date (`2026-11-29`), a UTC time (`2026-11-29T08:00:00Z`) or
/// an age (`90d`, `12h`, `30m`), as milliseconds since the epoch.
fn parse_point(s: &str, now_ms: i64) -> anyhow::Result<i64> {
    if let Ok(age) = centinela_core::config::parse_duration(s) {
        let age = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        return Ok(now_ms.saturating_sub(age));
    }
    let bad = || {
        anyhow::anyhow!("{s:?} is not a date (2026-11-29), a UTC time (2026-11-29T08:00:00Z) or an age (90d, 12h)")
    };
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').ok_or_else(bad)?)),
        None => (s, None),
    };
    let parts: Vec<i64> = date
        .split('-')
        .map(|p| p.parse::<i64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [y, m, d] = parts[..] else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let hms: Vec<i64> = t
            .split(':')
            .map(|p| {
                p.split('.')
                    .next()
                    .unwrap_or("")
                    .parse::<i64>()
                    .map_err(|_| bad())
            })
            .collect::<Result<_, _>>()?;
        let [h, mi, se] = hms[..] else {
            return Err(bad());
        };
        secs += h * 3600 + mi * 60 + se;
    }
    Ok(secs * 1000)
}

/// The ECS category of a stored kind (kinds written by a newer release count as
/// configuration).
fn category(kind: &str) -> &'static str {
    centinela_core::auditlog::Kind::from_name(kind).map_or("configuration", |k| k.category())
}

/// One event as an ECS-shaped JSON object.
fn ecs(e: &Stored) -> serde_json::Value {
    let details: serde_json::Value =
        serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "@timestamp": rfc3339(e.at_ms),
        "event": {
            "kind": "event",
            "action": e.kind,
            "category": [category(&e.kind)],
            "outcome": e.outcome,
            "sequence": e.seq,
            "hash": e.hash,
        },
        "user": { "name": e.actor },
        "source": { "ip": e.client_ip },
        "centinela": {
            "target": e.target,
            "details": details,
            "prev_hash": e.prev_hash,
        },
    })
}

pub async fn run(cmd: AuditLogCommand) -> anyhow::Result<ExitCode> {
    let now = context::unix_now().saturating_mul(1000);
    match cmd {
        AuditLogCommand::Verify { cfg } => {
            let ctx = Context::open(&cfg).await?;
            match ctx.store.verify_audit().await? {
                Ok(n) => {
                    println!("audit log intact: {n} event(s) verified");
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    eprintln!("centinela: {b}");
                    eprintln!(
                        "centinela: events from {} on cannot be trusted; see docs/runbooks/audit-chain-broken.md",
                        b.seq
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditLogCommand::Export { cfg, since, kind } => {
            let ctx = Context::open(&cfg).await?;
            let since_ms = match &since {
                Some(s) => parse_point(s, now)?,
                None => 0,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut after = 0;
            let mut n = 0u64;
            loop {
                let page = ctx.store.audit_events(after, since_ms, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in page
                    .iter()
                    .filter(|e| kind.as_ref().is_none_or(|k| &e.kind == k))
                {
                    writeln!(out, "{}", ecs(e)).context("cannot write to stdout")?;
                    n += 1;
                }
            }
            out.flush().context("cannot write to stdout")?;
            eprintln!("exported {n} event(s)");
            Ok(ExitCode::SUCCESS)
        }
        AuditLogCommand::Prune { cfg, before } => {
            let ctx = Context::open(&cfg).await?;
            let before_ms = parse_point(&before, now)?;
            if before_ms > now {
                bail!("--before is in the future; nothing that recent can be pruned");
            }
            if let Err(b) = ctx.store.verify_audit().await? {
                bail!("{b}; refusing to prune a broken chain (pruning would hide the break)");
            }
            let r = ctx.store.prune_audit(before_ms).await?;
            match r.checkpoint {
                Some(seq) => println!(
                    "pruned {} event(s) older than {}; the chain now starts after event {seq} (signed checkpoint)",
                    r.deleted,
                    rfc3339(before_ms)
                ),
                None => println!("nothing older than {} to prune", rfc3339(before_ms)),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let now = 1_000_000_000_000;
        assert_eq!(
            parse_point("2025-11-29T08:34:56Z", now).ok(),
            Some(1_764_405_296_000)
        );
        assert_eq!(parse_point("1h", now).ok(), Some(now - 3_600_000));
        assert!(parse_point("yesterday", now).is_err());
        assert!(parse_point("2025-13-01", now).is_err());
    }
}
