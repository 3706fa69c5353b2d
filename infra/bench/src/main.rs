//! `make bench`: cold start, first request, warm invokes, peak memory, size and AWS calls of the
//! Lambdas, each binary run under a Lambda Runtime API emulator against DynamoDB Local and moto,
//! interleaved round-robin with the hello-world floor and the naive SDK build of each function.
//!
//! Usage: lambda-bench --release DIR [--naive DIR] --dynamodb URL --moto URL [--rounds N] [--warm N]
//!        [--functions a,b]
//!
//! Without `--naive` the naive builds are left out; `--functions` picks some of the four.

mod proxy;
mod runtime_api;

use futures::StreamExt;
use invitations::clock::SystemClock;
use invitations::domain::{DomainAllowList, Email, NewInvitation, NewProject, ProjectName};
use invitations::store::dynamodb::DynamoStore;
use invitations::store::Store;
use invitations::{Caller, Invitations, ProjectId, Role, Settings, UserId};
use local_server::Claims;
use runtime_api::{Invocation, Report, RuntimeApi};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Quotas wide enough for every invitation the benchmark sends.
const BENCH_QUOTAS: [(&str, &str); 4] = [
    ("QUOTA_INVITATIONS_PER_PROJECT_PER_DAY", "10000"),
    ("QUOTA_INVITATIONS_PER_INVITER_PER_DAY", "10000"),
    ("QUOTA_PENDING_PER_ADDRESS", "1000"),
    ("QUOTA_PROJECTS_PER_USER", "10000"),
];

/// Invitations per page in the list benchmark.
const LIST_PAGE: usize = 50;
const FUNCTIONS: &str = "create-invitation,list-invitations,accept-invitation,post-confirmation";

struct Args {
    release: PathBuf,
    naive: Option<PathBuf>,
    functions: Vec<String>,
    dynamodb: String,
    moto: String,
    rounds: usize,
    warm: usize,
}

fn args() -> Args {
    let mut map = BTreeMap::new();
    let raw: Vec<String> = std::env::args().skip(1).collect();
    for pair in raw.chunks(2) {
        map.insert(pair[0].trim_start_matches("--").to_owned(), pair.get(1).cloned().unwrap_or_default());
    }
    let get = |k: &str| map.get(k).cloned().unwrap_or_else(|| panic!("--{k} is required"));
    Args {
        release: get("release").into(),
        naive: map.get("naive").map(PathBuf::from),
        functions: map.get("functions").map_or(FUNCTIONS, |f| f.as_str()).split(',').map(str::to_owned).collect(),
        dynamodb: get("dynamodb"),
        moto: get("moto"),
        rounds: map.get("rounds").map_or(21, |r| r.parse().unwrap()),
        warm: map.get("warm").map_or(100, |r| r.parse().unwrap()),
    }
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

/// CPU time the process has used so far, from every thread's schedstat (nanoseconds).
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// TCP connections the process holds to anything but the runtime API.
fn foreign_connections(pid: u32, runtime_port: u16) -> usize {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .filter_map(|target| {
                    let t = target.to_string_lossy().into_owned();
                    t.strip_prefix("socket:[").map(|s| s.trim_end_matches(']').to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut count = 0;
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || !inodes.iter().any(|i| i == fields[9]) || fields[3] == "0A" {
                continue;
            }
            let port = fields[2].rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok()).unwrap_or(0);
            if port != runtime_port {
                count += 1;
            }
        }
    }
    count
}

/// Size, deflated size, and how the executable is linked: at a fixed address (ELF type EXEC) or
/// as a PIE (DYN), whose relocations the loader applies at every cold start.
fn file_facts(binary: &Path) -> (u64, u64, &'static str) {
    use std::io::Write;
    let bytes = std::fs::read(binary).unwrap();
    let linked = match bytes.get(16..18) {
        Some([2, 0]) => "fixed",
        Some([3, 0]) => "PIE",
        _ => "?",
    };
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&bytes).unwrap();
    (bytes.len() as u64, encoder.finish().unwrap().len() as u64, linked)
}

/// What one function needs: its events, built per invocation.
struct Workload {
    env: Vec<(String, String)>,
    events: Box<dyn FnMut(usize) -> String>,
}

struct Fixture {
    table: String,
    email_queue: String,
    reconcile_queue: String,
    app: Invitations,
    owner: Caller,
    project: ProjectId,
}

fn api_event(
    route: &str,
    method: &str,
    path: &str,
    query: &str,
    params: Value,
    body: Option<&str>,
    caller: &Caller,
) -> String {
    let claims = Claims {
        sub: caller.user_id.to_string(),
        email: caller.email.clone().unwrap_or_default(),
        email_verified: true,
    };
    let Value::Object(params) = params else { unreachable!() };
    let path_and_query = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
    let request = local_server::HttpRequest { method, path_and_query: &path_and_query, headers: Vec::new(), body };
    local_server::event(route, &request, params, Some(&claims)).to_string()
}

fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

fn new_user(email: String) -> Caller {
    Caller {
        user_id: UserId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
        email: Some(email),
        email_verified: true,
    }
}

fn editor(email: &str) -> NewInvitation {
    NewInvitation { email: Email::parse(email).unwrap(), role: Role::Editor }
}

fn project_named(name: &str) -> NewProject {
    NewProject { name: ProjectName::parse(name).unwrap(), allowed_email_domains: DomainAllowList::default() }
}

/// Invitations waiting to be accepted, one per future invocation.
async fn pending(fixture: &Fixture, count: usize) -> Vec<(Caller, String)> {
    futures::stream::iter(0..count)
        .map(|_| async {
            let invitee = new_user(unique_email("invitee"));
            let invitation = fixture
                .app
                .create_invitation(&fixture.owner, &fixture.project, editor(invitee.email.as_deref().unwrap()))
                .await
                .expect("setup invitation");
            (invitee, invitation.id.to_string())
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// New users, each with a pending invitation in every one of `projects` (fresh projects).
async fn signing_up(fixture: &Fixture, users: usize, projects: usize) -> Vec<Caller> {
    let owner = &fixture.owner;
    let project_ids: Vec<ProjectId> =
        futures::stream::iter(0..projects)
            .map(|i| async move {
                fixture.app.create_project(owner, project_named(&format!("Sign-up {i}"))).await.unwrap().id
            })
            .buffer_unordered(16)
            .collect()
            .await;
    let mut out = Vec::new();
    for _ in 0..users {
        let email = unique_email("signup");
        futures::stream::iter(&project_ids)
            .map(|pid| fixture.app.create_invitation(owner, pid, editor(&email)))
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .for_each(|created| drop(created.expect("setup invitation")));
        out.push(new_user(email));
    }
    out
}

fn confirmation_event(user: &Caller) -> String {
    json!({
        "version": "1", "region": "us-east-1", "userPoolId": "us-east-1_bench", "userName": user.user_id,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "bench"},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": {"sub": user.user_id, "email": user.email, "email_verified": "true"}},
        "response": {}
    })
    .to_string()
}

async fn workload(name: &str, fixture: &Fixture, count: usize) -> Workload {
    // The benchmark sends more than the default quotas allow one inviter and one address.
    let mut env = vec![("TABLE_NAME".to_owned(), fixture.table.clone())];
    env.extend(BENCH_QUOTAS.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    let pid = fixture.project.clone();
    let owner = fixture.owner.clone();
    let events: Box<dyn FnMut(usize) -> String> = match name {
        "create-invitation" => {
            env.push(("EMAIL_QUEUE_URL".into(), fixture.email_queue.clone()));
            Box::new(move |_| {
                let body = json!({"email": unique_email("new"), "role": "editor"}).to_string();
                let path = format!("/api/v1/projects/{pid}/invitations");
                api_event(
                    "POST /api/v1/projects/{pk}/invitations",
                    "POST",
                    &path,
                    "",
                    json!({"pk": pid}),
                    Some(&body),
                    &owner,
                )
            })
        }
        "list-invitations" => {
            // A full page whatever else runs: the list reads the first 50 of the project's invitations.
            pending(fixture, LIST_PAGE).await;
            Box::new(move |_| {
                let path = format!("/api/v1/projects/{pid}/invitations");
                api_event(
                    "GET /api/v1/projects/{pk}/invitations",
                    "GET",
                    &path,
                    &format!("limit={LIST_PAGE}"),
                    json!({"pk": pid}),
                    None,
                    &owner,
                )
            })
        }
        "accept-invitation" => {
            let pool = pending(fixture, count).await;
            Box::new(move |i| {
                let (invitee, id) = &pool[i];
                let path = format!("/api/v1/projects/{pid}/invitations/{id}/accept");
                let route = "POST /api/v1/projects/{pk}/invitations/{id}/accept";
                api_event(route, "POST", &path, "", json!({"pk": pid, "id": id}), None, invitee)
            })
        }
        "post-confirmation" => {
            env.push(("RECONCILE_QUEUE_URL".into(), fixture.reconcile_queue.clone()));
            let pool = pending(fixture, count).await;
            Box::new(move |i| confirmation_event(&pool[i].0))
        }
        _ => Box::new(|_| "{}".to_owned()),
    };
    Workload { env, events }
}

#[derive(Default)]
struct Samples {
    init_cpu: Vec<f64>,
    init_wall: Vec<f64>,
    first_cpu: Vec<f64>,
    first_latency: Vec<f64>,
    warm_latency: Vec<f64>,
    warm_cpu: Vec<f64>,
    hwm_kb: u64,
    foreign_connections: usize,
    calls: BTreeMap<String, usize>,
    invokes_counted: usize,
    failures: usize,
}

struct Proxies {
    dynamodb: String,
    moto: String,
    dynamodb_calls: proxy::Calls,
    moto_calls: proxy::Calls,
}

fn all_calls(p: &Proxies) -> BTreeMap<String, usize> {
    let mut calls = p.dynamodb_calls.snapshot();
    for (k, v) in p.moto_calls.snapshot() {
        *calls.entry(k).or_default() += v;
    }
    calls
}

async fn wait_next(api: &mut RuntimeApi) -> Option<Instant> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), api.reports.recv()).await.ok()?? {
            Report::Next(at) => return Some(at),
            Report::Done { .. } => continue,
        }
    }
}

async fn wait_done(api: &mut RuntimeApi) -> Option<(Instant, bool, String)> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), api.reports.recv()).await.ok()?? {
            Report::Done { at, ok, body } => return Some((at, ok, body)),
            Report::Next(_) => continue,
        }
    }
}

/// One cold start of `binary` followed by `invokes` invocations.
async fn run_once(
    binary: &Path,
    workload: &mut Workload,
    next_event: &mut usize,
    invokes: usize,
    proxies: &Proxies,
    samples: &mut Samples,
    empty_dir: &Path,
) {
    let mut api = RuntimeApi::start().await;
    let runtime_port: u16 = api.address.rsplit(':').next().unwrap().parse().unwrap();
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", empty_dir)
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL_DYNAMODB", &proxies.dynamodb)
        .env("AWS_ENDPOINT_URL_SQS", &proxies.moto)
        .env("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
        .env("SSL_CERT_DIR", empty_dir)
        .env("RUST_LOG", "info")
        .envs(workload.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child: Child = command.spawn().expect("spawn the function");
    let pid = child.id();
    let Some(first_next) = wait_next(&mut api).await else {
        samples.failures += 1;
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let init_cpu = cpu_ns(pid);
    samples.init_wall.push((first_next - started).as_secs_f64() * 1e3);
    samples.init_cpu.push(init_cpu as f64 / 1e6);
    samples.foreign_connections = samples.foreign_connections.max(foreign_connections(pid, runtime_port));
    let mut cpu_before = init_cpu;
    for i in 0..invokes {
        let body = (workload.events)(*next_event);
        *next_event += 1;
        let calls_before = all_calls(proxies);
        let handed = Instant::now();
        api.invocations.send(Invocation { id: format!("req-{i}"), body }).await.unwrap();
        let Some((done, ok, response)) = wait_done(&mut api).await else {
            samples.failures += 1;
            break;
        };
        if !ok || response.contains("\"statusCode\":5") || response.contains("\"statusCode\":4") {
            samples.failures += 1;
            eprintln!("{}: unexpected response {response}", binary.display());
        }
        // The work of one invocation ends when the runtime asks for the next.
        wait_next(&mut api).await;
        let cpu_after = cpu_ns(pid);
        let cpu = (cpu_after - cpu_before) as f64 / 1e6;
        cpu_before = cpu_after;
        if i == 0 {
            samples.first_cpu.push(cpu);
            samples.first_latency.push((done - handed).as_secs_f64() * 1e3);
        } else {
            samples.warm_latency.push((done - handed).as_secs_f64() * 1e3);
            samples.warm_cpu.push(cpu);
        }
        let calls_after = all_calls(proxies);
        for (op, n) in &calls_after {
            let delta = n - calls_before.get(op).copied().unwrap_or(0);
            if delta > 0 {
                *samples.calls.entry(op.clone()).or_default() += delta;
            }
        }
        samples.invokes_counted += 1;
    }
    samples.hwm_kb = samples.hwm_kb.max(vm_hwm_kb(pid));
    let _ = child.kill();
    let _ = child.wait();
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args = args();
    let aws = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("bench", "bench", None, None, "bench"),
        ))
        .http_client(invitations::sdk_config::https_client())
        .build();
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws).endpoint_url(&args.dynamodb).build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(&aws).endpoint_url(&args.moto).build());
    let dynamodb_calls = proxy::Calls::default();
    let moto_calls = proxy::Calls::default();
    let proxies = Proxies {
        dynamodb: proxy::start(host_port(&args.dynamodb), dynamodb_calls.clone()).await,
        moto: proxy::start(host_port(&args.moto), moto_calls.clone()).await,
        dynamodb_calls,
        moto_calls,
    };
    let empty_dir = std::env::temp_dir().join(format!("bench-empty-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&empty_dir).unwrap();

    let table = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::new(dynamodb.clone(), table.clone());
    store.create_table().await.unwrap();
    let queue = |name: String| {
        let sqs = sqs.clone();
        async move { sqs.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap() }
    };
    let email_queue = queue(format!("bench-emails-{}", uuid::Uuid::new_v4().simple())).await;
    let reconcile_queue = queue(format!("bench-reconcile-{}", uuid::Uuid::new_v4().simple())).await;
    let settings =
        Settings::from_lookup(|name| BENCH_QUOTAS.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
            .expect("bench settings");
    let app = Invitations::new(Arc::new(store), Arc::new(SystemClock), settings);
    let owner = Caller {
        user_id: UserId::parse("bench-owner").unwrap(),
        email: Some("owner@example.com".into()),
        email_verified: true,
    };
    let project = app.create_project(&owner, project_named("Bench")).await.unwrap().id;
    let fixture = Fixture { table, email_queue, reconcile_queue, app, owner, project };

    // (label, binary, workload); every variant runs each round, interleaved.
    let per_binary = args.warm + 1 + args.rounds;
    let mut variants: Vec<(String, PathBuf, Workload)> =
        vec![("floor (hello world)".into(), args.release.join("bench-floor"), workload("floor", &fixture, 0).await)];
    for name in &args.functions {
        variants.push((name.clone(), args.release.join(name), workload(name, &fixture, per_binary).await));
        if let Some(naive) = &args.naive {
            variants.push((format!("{name} (naive)"), naive.join(name), workload(name, &fixture, per_binary).await));
        }
    }
    let mut samples: Vec<Samples> = variants.iter().map(|_| Samples::default()).collect();
    let mut cursors = vec![0usize; variants.len()];
    for round in 0..args.rounds {
        for (i, (_, binary, workload)) in variants.iter_mut().enumerate() {
            let invokes = if round == 0 { args.warm + 1 } else { 1 };
            run_once(binary, workload, &mut cursors[i], invokes, &proxies, &mut samples[i], &empty_dir).await;
        }
        eprintln!("round {} of {} done", round + 1, args.rounds);
    }

    let floor_wall = percentile(&samples[0].init_wall, 0.5);
    let floor_cpu = percentile(&samples[0].init_cpu, 0.5);
    println!();
    println!(
        "Lambda cold start and invoke figures, x86_64, {} cold starts each (interleaved round-robin), {} warm invokes; \
         every binary run with SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt and an empty SSL_CERT_DIR (one bundle, as on Amazon Linux). \
         CPU from /proc/<pid>/task/*/schedstat; times in ms, medians unless marked.",
        args.rounds, args.warm
    );
    println!();
    println!("| binary | init CPU | init CPU − floor | init wall p50 (×floor) | init wall p90 | 1st request CPU | init + 1st CPU | warm invoke p50 | warm CPU | peak RSS MB | stripped MB | zipped MB | linked | AWS calls / invoke | conns in init | failures |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for ((label, binary, _), s) in variants.iter().zip(&samples) {
        let (size, zipped, linked) = file_facts(binary);
        let init_cpu = percentile(&s.init_cpu, 0.5);
        let first = percentile(&s.first_cpu, 0.5);
        let wall = percentile(&s.init_wall, 0.5);
        let calls = if s.invokes_counted == 0 || s.calls.is_empty() {
            "0".to_owned()
        } else {
            s.calls
                .iter()
                .map(|(op, n)| format!("{op} {:.2}", *n as f64 / s.invokes_counted as f64))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "| {label} | {init_cpu:.2} | {:+.2} | {wall:.2} ({:.2}×) | {:.2} | {first:.2} | {:.2} | {:.2} | {:.3} | {:.1} | {:.2} | {:.2} | {linked} | {calls} | {} | {} |",
            init_cpu - floor_cpu,
            wall / floor_wall,
            percentile(&s.init_wall, 0.9),
            init_cpu + first,
            percentile(&s.warm_latency, 0.5),
            percentile(&s.warm_cpu, 0.5),
            s.hwm_kb as f64 / 1024.0,
            size as f64 / 1e6,
            zipped as f64 / 1e6,
            s.foreign_connections,
            s.failures,
        );
    }
    if args.functions.iter().any(|f| f == "post-confirmation") {
        sign_up_with_many_invitations(&args, &fixture, &proxies, &dynamodb, &empty_dir).await;
    }
    let _ = std::fs::remove_dir_all(&empty_dir);
}

/// Sign-up with many pending invitations: a cold and a warm sign-up per round.
async fn sign_up_with_many_invitations(
    args: &Args,
    fixture: &Fixture,
    proxies: &Proxies,
    dynamodb: &aws_sdk_dynamodb::Client,
    empty_dir: &Path,
) {
    const SIGN_UP_INVITATIONS: usize = 100;
    // Each sign-up needs 100 fresh invitations: a few rounds give a stable median.
    let rounds = args.rounds.min(7);
    let users = signing_up(fixture, rounds * 2, SIGN_UP_INVITATIONS).await;
    let events_for = users.clone();
    let mut sign_up = Workload {
        env: vec![
            ("TABLE_NAME".to_owned(), fixture.table.clone()),
            ("RECONCILE_QUEUE_URL".to_owned(), fixture.reconcile_queue.clone()),
        ],
        events: Box::new(move |i| confirmation_event(&events_for[i])),
    };
    let binary = args.release.join("post-confirmation");
    let mut samples = Samples::default();
    let mut cursor = 0;
    for _ in 0..rounds {
        run_once(&binary, &mut sign_up, &mut cursor, 2, proxies, &mut samples, empty_dir).await;
    }
    let store = DynamoStore::new(dynamodb.clone(), fixture.table.clone());
    let mut left_pending = 0;
    for user in &users {
        left_pending += store.pending_for_email(user.email.as_deref().unwrap()).await.unwrap().len();
    }
    let calls = samples
        .calls
        .iter()
        .map(|(op, n)| format!("{op} {:.2}", *n as f64 / samples.invokes_counted as f64))
        .collect::<Vec<_>>()
        .join(", ");
    println!();
    println!(
        "Sign-up acceptance: post-confirmation accepting {SIGN_UP_INVITATIONS} pending invitations in {SIGN_UP_INVITATIONS} projects, \
         {} sign-ups on a cold start and {} on a warm one: cold invoke p50 {:.0} ms (p90 {:.0}), warm invoke p50 {:.0} ms (p90 {:.0}); \
         AWS calls per sign-up: {calls}; invitations left pending: {left_pending} of {}; failures: {}.",
        samples.first_latency.len(),
        samples.warm_latency.len(),
        percentile(&samples.first_latency, 0.5),
        percentile(&samples.first_latency, 0.9),
        percentile(&samples.warm_latency, 0.5),
        percentile(&samples.warm_latency, 0.9),
        users.len() * SIGN_UP_INVITATIONS,
        samples.failures,
    );
}
