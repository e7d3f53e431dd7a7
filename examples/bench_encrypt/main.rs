//! EncryptData throughput against a baseline, in one run (see bench/encrypt.sh).
//!
//! 1. starts `target/dist/dewstack serve` on a fresh data dir and creates an
//!    AES_256 key through a signed create-key call;
//! 2. starts this binary again as `--baseline`: a minimal axum server (same
//!    hyper/axum stack as dewstack) answering every request with a fixed 200;
//! 3. drives both with the same AK/SK-signed (SDK-HMAC-SHA256) EncryptData
//!    requests (1 KiB plaintext) from 64 concurrent keep-alive connections, and
//!    prints requests/s, p50 and p99 for each, and the ratio.
//!
//! Knobs: BENCH_SECONDS per round and server (default 5), BENCH_ROUNDS (3),
//! BENCH_CONNECTIONS (64), DEWSTACK_BIN.

mod client;

use client::{post, send, signed_headers};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub struct Creds {
    pub ak: String,
    pub sk: String,
    pub project: String,
}

fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--baseline") {
        return baseline_server();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())
}

/// A fixed 200 with an EncryptData-sized JSON body, on axum like dewstack.
fn baseline_server() -> AnyResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let body = format!(
            "{{\"key_id\":\"0d0466b0-e727-4d9c-b35d-f84bb474a37f\",\"cipher_text\":\"{}\"}}",
            "A".repeat(1468)
        );
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("BASELINE_ADDR={}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(())
    })
}

struct Server {
    child: Child,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` and waits for a stdout line `<marker>=<value>`; returns the value.
fn spawn_and_read(mut cmd: Command, marker: &str) -> AnyResult<(Child, String)> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim_start_matches("export ");
        if let Some(v) = line.strip_prefix(&format!("{marker}=")) {
            let value = v.trim_matches(|c| c == '\'' || c == '"').to_owned();
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return Ok((child, value));
        }
    }
    let _ = child.kill();
    Err(format!("no {marker} line from child").into())
}

fn start_dewstack(creds: &Creds, dir: &std::path::Path) -> AnyResult<Server> {
    let bin = std::env::var("DEWSTACK_BIN").unwrap_or_else(|_| "target/dist/dewstack".into());
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("DEWSTACK_ACCESS_KEY", &creds.ak)
        .env("DEWSTACK_SECRET_KEY", &creds.sk)
        .env("DEWSTACK_PROJECT_ID", &creds.project)
        .env("DEWSTACK_DOMAIN_ID", "d0000000000000000000000000000001")
        .env("DEWSTACK_REGION", "cn-north-4")
        .env("RUST_LOG", "warn");
    let (child, endpoint) = spawn_and_read(cmd, "DEWSTACK_ENDPOINT")?;
    Ok(Server {
        child,
        endpoint: endpoint.trim_end_matches('/').to_owned(),
    })
}

fn start_baseline() -> AnyResult<Server> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("--baseline");
    let (child, addr) = spawn_and_read(cmd, "BASELINE_ADDR")?;
    Ok(Server {
        child,
        endpoint: format!("http://{addr}"),
    })
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of /proc/pid/stat; 12 and 13 after "pid (comm)".
    (ticks(11) + ticks(12)) / 100.0
}

struct Stats {
    /// Server CPU time per request, microseconds.
    cpu_us: f64,
    rps: f64,
    p50_us: u64,
    p99_us: u64,
    errors: u64,
}

/// `conns` workers, each on its own keep-alive connection, for `secs` seconds.
#[allow(clippy::too_many_arguments)]
async fn drive(
    pid: u32,
    endpoint: &str,
    creds: Arc<Creds>,
    path: Arc<str>,
    body: Arc<Vec<u8>>,
    conns: usize,
    secs: u64,
) -> AnyResult<Stats> {
    let start = Instant::now();
    let warm = start + Duration::from_secs(1);
    let end = warm + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let (endpoint, creds, path, body) = (
            endpoint.to_owned(),
            creds.clone(),
            path.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            // A signature is valid for 15 minutes; sign afresh each second, as
            // X-Sdk-Date moves, so the client's own cost stays small.
            let host = endpoint.trim_start_matches("http://").to_owned();
            let mut signed: Option<(Instant, Vec<(String, String)>)> = None;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let stale = signed
                    .as_ref()
                    .is_none_or(|(at, _)| at.elapsed() >= Duration::from_secs(1));
                if stale {
                    match signed_headers(&creds, &host, &path, &body) {
                        Ok(h) => signed = Some((t0, h)),
                        Err(_) => break,
                    }
                }
                let headers = signed.as_ref().map(|(_, h)| h.as_slice()).unwrap_or(&[]);
                let ok = matches!(
                    send(&client, &endpoint, &path, &body, headers).await,
                    Ok((200, _))
                );
                if t0 >= warm {
                    lat.push(t0.elapsed().as_micros() as u64);
                    errors += u64::from(!ok);
                }
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep_until(warm.into()).await;
    let cpu0 = cpu_seconds(pid);
    tokio::time::sleep_until(end.into()).await;
    let cpu = cpu_seconds(pid) - cpu0;
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await?;
        all.extend(lat);
        errors += e;
    }
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Ok(Stats {
        cpu_us: cpu * 1e6 / (all.len().max(1) as f64),
        rps: all.len() as f64 / secs as f64,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        errors,
    })
}

async fn run() -> AnyResult<()> {
    let secs: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let conns: usize = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let creds = Arc::new(Creds {
        ak: "BENCHAKBENCHAKBENCH1".into(),
        sk: "benchSecretKeybenchSecretKeybenchSecret1".into(),
        project: "b0000000000000000000000000000001".into(),
    });
    let dir = std::env::temp_dir().join(format!("dewstack-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let dew = start_dewstack(&creds, &dir)?;
    let base = start_baseline()?;
    let client = reqwest::Client::new();
    let p = format!("/v1.0/{}/kms", creds.project);

    // Wait for readiness and create the key.
    let create = br#"{"key_alias":"bench-key","key_spec":"AES_256"}"#;
    let mut created = None;
    for _ in 0..100 {
        if let Ok((200, body)) = post(
            &client,
            &creds,
            &dew.endpoint,
            &format!("{p}/create-key"),
            create,
        )
        .await
        {
            created = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created: serde_json::Value = serde_json::from_slice(&created.ok_or("create-key failed")?)?;
    let key_id = created["key_info"]["key_id"]
        .as_str()
        .ok_or("no key_id")?
        .to_owned();
    let body = serde_json::to_vec(&serde_json::json!({
        "key_id": key_id, "plain_text": "x".repeat(1024)
    }))?;
    let (status, resp) = post(
        &client,
        &creds,
        &dew.endpoint,
        &format!("{p}/encrypt-data"),
        &body,
    )
    .await?;
    if status != 200 {
        return Err(format!(
            "encrypt-data answered {status}: {}",
            String::from_utf8_lossy(&resp)
        )
        .into());
    }

    let path: Arc<str> = Arc::from(format!("{p}/encrypt-data"));
    let body = Arc::new(body);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    println!(
        "EncryptData, AES_256, 1 KiB plaintext, {conns} keep-alive connections; \
         {rounds} interleaved rounds of {secs}s per server (+1s warm-up each)"
    );
    let (mut bs, mut ds) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        bs.push(
            drive(
                base.child.id(),
                &base.endpoint,
                creds.clone(),
                path.clone(),
                body.clone(),
                conns,
                secs,
            )
            .await?,
        );
        ds.push(
            drive(
                dew.child.id(),
                &dew.endpoint,
                creds.clone(),
                path.clone(),
                body.clone(),
                conns,
                secs,
            )
            .await?,
        );
    }
    let median = |v: &[Stats], f: fn(&Stats) -> f64| {
        let mut x: Vec<f64> = v.iter().map(f).collect();
        x.sort_by(|a, b| a.total_cmp(b));
        x[x.len() / 2]
    };
    let mut ratios: Vec<f64> = bs
        .iter()
        .zip(&ds)
        .map(|(b, d)| d.rps / b.rps.max(1.0))
        .collect();
    ratios.sort_by(|a, b| a.total_cmp(b));
    for (name, s) in [
        ("baseline (axum fixed 200)", &bs),
        ("dewstack encrypt-data", &ds),
    ] {
        println!(
            "{name:<28} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   server CPU {:>5.0} us/req   errors {}",
            median(s, |x| x.rps),
            median(s, |x| x.p50_us as f64) / 1000.0,
            median(s, |x| x.p99_us as f64) / 1000.0,
            median(s, |x| x.cpu_us),
            s.iter().map(|x| x.errors).sum::<u64>()
        );
    }
    println!("(medians of {rounds} rounds)");
    println!(
        "server CPU per request, dewstack/baseline: {:.2}",
        median(&ds, |x| x.cpu_us) / median(&bs, |x| x.cpu_us).max(1.0)
    );
    println!(
        "ratio dewstack/baseline: {:.2} (median; per round: {})",
        ratios[ratios.len() / 2],
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    drop(dew);
    drop(base);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
