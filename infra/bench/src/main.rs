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
use invitations::mail::ses::SesMailer;
use invitations::mail::templates::EmailTemplates;
use invitations::queue::SendInvitationEmail;
use invitations::service::{EmailDelivery, SendOutcome};
use invitations::store::dynamodb::DynamoStore;
use invitations::store::Store;
use invitations::{Caller, Invitation, Invitations, ProjectId, Role, Settings, UserId};
use local_server::Claims;
use proxy::{Meter, TestCa, Usage};
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

const TLS_FLOOR: &str = "floor + one TLS request";
/// The TLS floor of a function whose first invoke reaches two services (DynamoDB and SES).
const TLS_FLOOR_TWO: &str = "floor + TLS requests to two services";

/// Invitations per page in the list benchmark.
const LIST_PAGE: usize = 50;
const FUNCTIONS: &str =
    "create-invitation,list-invitations,accept-invitation,post-confirmation,send-invitation-email,ses-events";

struct Args {
    release: PathBuf,
    naive: Option<PathBuf>,
    functions: Vec<String>,
    dynamodb: String,
    moto: String,
    rounds: usize,
    warm: usize,
    /// Pending invitations per sign-up in the sign-up section (empty: no section).
    sign_ups: Vec<usize>,
    /// Invitations per project in the lists section (empty: no section).
    lists: Vec<usize>,
    /// Rows per request in the bulk section (empty: no section).
    bulk: Vec<usize>,
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
        functions: map
            .get("functions")
            .map_or(FUNCTIONS, |f| f.as_str())
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        dynamodb: get("dynamodb"),
        moto: get("moto"),
        rounds: map.get("rounds").map_or(21, |r| r.parse().unwrap()),
        warm: map.get("warm").map_or(100, |r| r.parse().unwrap()),
        sign_ups: sizes(map.get("sign-ups")),
        lists: sizes(map.get("lists")),
        bulk: sizes(map.get("bulk")),
    }
}

/// `1,10,100` → the sizes; absent or empty → none.
fn sizes(raw: Option<&String>) -> Vec<usize> {
    raw.map(|raw| raw.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()).unwrap_or_default()
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
    /// A verified identity in moto's SES: the sender's `SENDER_EMAIL`.
    sender: String,
    dynamodb: aws_sdk_dynamodb::Client,
    ses: aws_sdk_sesv2::Client,
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
    NewInvitation::new(Email::parse(email).unwrap(), Role::Editor)
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

/// Invitations whose email is still to be sent, one per future invocation.
async fn invited(fixture: &Fixture, count: usize) -> Vec<Invitation> {
    futures::stream::iter(0..count)
        .map(|_| async {
            let invitation = editor(&unique_email("emailed"));
            fixture.app.create_invitation(&fixture.owner, &fixture.project, invitation).await.expect("setup invitation")
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// The email pipe's message for an invitation's send.
fn send_request(invitation: &Invitation) -> SendInvitationEmail {
    SendInvitationEmail {
        project_id: invitation.project_id.clone(),
        invitation_id: invitation.id,
        send_id: invitation.send_id,
    }
}

fn send_message(invitation: &Invitation) -> String {
    serde_json::to_string(&send_request(invitation)).unwrap()
}

/// Invitations emailed (in this process, straight to moto), each with the SES event of its
/// delivery (the EventBridge event the SES events queue carries): one per future invocation.
async fn delivered(fixture: &Fixture, count: usize) -> Vec<(Invitation, String)> {
    let mailer = SesMailer::new(fixture.ses.clone(), fixture.sender.clone(), None);
    let store = Arc::new(DynamoStore::new(fixture.dynamodb.clone(), fixture.table.clone()));
    let delivery = EmailDelivery::new(
        store,
        Arc::new(SystemClock),
        Settings::default(),
        Arc::new(mailer),
        EmailTemplates::default(),
    );
    let mut events = Vec::new();
    for invitation in invited(fixture, count).await {
        let Ok(SendOutcome::Sent { message_id }) = delivery.deliver(&send_request(&invitation), false).await else {
            panic!("setup email not sent");
        };
        let detail = json!({
            "eventType": "Delivery",
            "mail": {
                "timestamp": "2026-12-02T00:00:00Z", "source": fixture.sender, "messageId": message_id,
                "destination": [invitation.email],
                "tags": {"project_id": [invitation.project_id.as_str()], "invitation_id": [invitation.id.to_string()]}
            },
            "delivery": {"timestamp": "2026-12-02T00:00:01Z", "recipients": [invitation.email]}
        });
        let event = json!({
            "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "Email Delivered",
            "source": "aws.ses", "account": "123456789012", "time": "2026-12-02T00:00:01Z", "region": "us-east-1",
            "resources": [], "detail": detail
        });
        events.push((invitation, event.to_string()));
    }
    events
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
    let mut env = function_env(fixture);
    let pid = fixture.project.clone();
    let owner = fixture.owner.clone();
    let events: Box<dyn FnMut(usize) -> String> = match name {
        "create-invitation" => {
            env.push(("EMAIL_QUEUE_URL".into(), fixture.email_queue.clone()));
            // Its own inviter and project: the quota partitions a create may read hold its own
            // slots (a few hundred at most, as under the stack's default quotas), not every
            // invitation the other workloads set up with the bench's raised ones.
            let owner = Caller { user_id: UserId::parse("bench-inviter").unwrap(), ..owner };
            let pid = fixture.app.create_project(&owner, project_named("Bench creates")).await.unwrap().id;
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
        "send-invitation-email" => {
            env.push(("EMAIL_QUEUE_URL".into(), fixture.email_queue.clone()));
            env.push(("SENDER_EMAIL".into(), fixture.sender.clone()));
            let pool: Vec<String> = invited(fixture, count).await.iter().map(|i| sqs_event(&send_message(i))).collect();
            Box::new(move |i| pool[i].clone())
        }
        "ses-events" => {
            let pool: Vec<String> = delivered(fixture, count).await.iter().map(|(_, event)| sqs_event(event)).collect();
            Box::new(move |i| pool[i].clone())
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
    /// Connections (TLS handshakes) the first invoke opened, at most.
    first_connections: usize,
    /// What the counted invokes did through the proxies, in all.
    usage: Usage,
    invokes_counted: usize,
    failures: usize,
    /// How many items the last API response listed (a JSON array body).
    last_items: usize,
    /// Under `BENCH_CALLGRIND`, the process of the first cold start, whose counts were dumped.
    callgrind_pid: Option<u32>,
}

impl Samples {
    /// AWS calls per invoke, by operation.
    fn calls_per_invoke(&self) -> String {
        per_invoke(&self.usage, self.invokes_counted)
    }
}

fn per_invoke(usage: &Usage, invokes: usize) -> String {
    if invokes == 0 || usage.calls.is_empty() {
        return "0".to_owned();
    }
    let calls = usage.calls.iter().map(|(op, n)| format!("{op} {:.2}", *n as f64 / invokes as f64));
    calls.collect::<Vec<_>>().join(", ")
}

/// The TLS endpoints in front of the emulators, and what the functions are handed to trust them.
struct Proxies {
    dynamodb: String,
    moto: String,
    meter: Meter,
    /// The test CA (`AWS_CA_BUNDLE`), and the system's roots with it (`SSL_CERT_FILE`, for the
    /// naive builds, which load the system's roots as most functions do).
    ca_file: PathBuf,
    system_and_ca_file: PathBuf,
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
    // BENCH_CALLGRIND=<dir> runs the function under callgrind, dumping its counts at the end of
    // init and of the first invoke (`callgrind_annotate <dir>/callgrind.out.<pid>.2`).
    let callgrind = std::env::var_os("BENCH_CALLGRIND").map(PathBuf::from);
    let mut command = match &callgrind {
        Some(dir) => {
            let mut valgrind = Command::new("valgrind");
            valgrind
                .arg("--tool=callgrind")
                .arg(format!("--callgrind-out-file={}/callgrind.out.%p", dir.display()))
                .arg(binary);
            valgrind
        }
        None => Command::new(binary),
    };
    let dump = |pid: u32| {
        if callgrind.is_some() {
            let _ = Command::new("callgrind_control").arg("--dump").arg(pid.to_string()).output();
        }
    };
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
        .env("AWS_ENDPOINT_URL_SESV2", &proxies.moto)
        .env("AWS_CA_BUNDLE", &proxies.ca_file)
        .env("FLOOR_TLS_URL", &proxies.dynamodb)
        .env("SSL_CERT_FILE", &proxies.system_and_ca_file)
        .env("SSL_CERT_DIR", empty_dir)
        .env("RUST_LOG", "info")
        .envs(workload.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        // BENCH_FUNCTION_LOGS=1 shows the functions' logs.
        .stderr(if std::env::var_os("BENCH_FUNCTION_LOGS").is_some() { Stdio::inherit() } else { Stdio::null() });
    let started = Instant::now();
    let mut child: Child = command.spawn().expect("spawn the function");
    let pid = child.id();
    let Some(first_next) = wait_next(&mut api).await else {
        samples.failures += 1;
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    dump(pid);
    if callgrind.is_some() && samples.callgrind_pid.is_none() {
        samples.callgrind_pid = Some(pid);
    }
    let init_cpu = cpu_ns(pid);
    samples.init_wall.push((first_next - started).as_secs_f64() * 1e3);
    samples.init_cpu.push(init_cpu as f64 / 1e6);
    samples.foreign_connections = samples.foreign_connections.max(foreign_connections(pid, runtime_port));
    let mut cpu_before = init_cpu;
    for i in 0..invokes {
        let body = (workload.events)(*next_event);
        *next_event += 1;
        let usage_before = proxies.meter.snapshot();
        let handed = Instant::now();
        api.invocations.send(Invocation { id: format!("req-{i}"), body }).await.unwrap();
        let Some((done, ok, response)) = wait_done(&mut api).await else {
            samples.failures += 1;
            break;
        };
        samples.last_items = listed_items(&response);
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
            dump(pid);
            samples.first_cpu.push(cpu);
            samples.first_latency.push((done - handed).as_secs_f64() * 1e3);
        } else {
            samples.warm_latency.push((done - handed).as_secs_f64() * 1e3);
            samples.warm_cpu.push(cpu);
        }
        let usage = proxies.meter.snapshot().since(&usage_before);
        if i == 0 {
            samples.first_connections = samples.first_connections.max(usage.connections);
        }
        samples.usage.add(&usage);
        samples.invokes_counted += 1;
    }
    samples.hwm_kb = samples.hwm_kb.max(vm_hwm_kb(pid));
    let _ = child.kill();
    let _ = child.wait();
}

/// Under `BENCH_CALLGRIND`: each binary's instructions to the end of its init and of its first
/// invoke, read against the TLS floor that opens as many connections. Unlike CPU time, the counts
/// do not move with the machine's load.
fn first_request_instructions(dir: &Path, variants: &[(String, PathBuf, Workload)], samples: &[Samples]) {
    // The total callgrind writes into a dump (`summary:` or `totals:`), in millions.
    let count = |pid: u32, part: u32| -> Option<f64> {
        let dump = std::fs::read_to_string(dir.join(format!("callgrind.out.{pid}.{part}"))).ok()?;
        let line = dump.lines().find(|line| line.starts_with("summary:") || line.starts_with("totals:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1e6)
    };
    let counts: Vec<Option<(f64, f64)>> =
        samples.iter().map(|s| s.callgrind_pid.and_then(|pid| Some((count(pid, 1)?, count(pid, 2)?)))).collect();
    // The TLS floors are the second and third variants, as in the main table.
    let floor = |connections: usize| counts.get(connections.clamp(1, 2)).copied().flatten().map(|(i, f)| i + f);
    println!();
    println!("The cold first request in instructions (callgrind, one cold start each; millions):");
    println!();
    println!("| binary | init | first invoke | init + first | conns in 1st | − TLS floor with as many connections |");
    println!("|---|---|---|---|---|---|");
    for (((label, _, _), s), counted) in variants.iter().zip(samples).zip(&counts) {
        let Some((init, first)) = counted else {
            println!("| {label} | - | - | - | - | - |");
            continue;
        };
        let over = match (s.first_connections, floor(s.first_connections)) {
            (0, _) | (_, None) => "-".to_owned(),
            (_, Some(floor)) => format!("{:+.2}", init + first - floor),
        };
        println!("| {label} | {init:.2} | {first:.2} | {:.2} | {} | {over} |", init + first, s.first_connections);
    }
}

/// The number of items in an API Gateway response whose body is a JSON array.
fn listed_items(response: &str) -> usize {
    let response: Value = serde_json::from_str(response).unwrap_or_default();
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or_default()).unwrap_or_default();
    body.as_array().map_or(0, Vec::len)
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
    let empty_dir = std::env::temp_dir().join(format!("bench-empty-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&empty_dir).unwrap();
    let ca = TestCa::new();
    let (ca_file, system_and_ca_file) = (empty_dir.join("../bench-ca.pem"), empty_dir.join("../bench-roots.pem"));
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let system = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    std::fs::write(&system_and_ca_file, format!("{system}\n{}", ca.pem)).unwrap();
    let meter = Meter::default();
    let proxies = Proxies {
        dynamodb: proxy::start(&args.dynamodb, meter.clone(), Some(ca.server.clone())).await,
        moto: proxy::start(&args.moto, meter.clone(), Some(ca.server.clone())).await,
        meter,
        ca_file,
        system_and_ca_file,
    };

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
    let ses =
        aws_sdk_sesv2::Client::from_conf(aws_sdk_sesv2::config::Builder::from(&aws).endpoint_url(&args.moto).build());
    let sender = unique_email("noreply");
    ses.create_email_identity().email_identity(&sender).send().await.unwrap();
    let fixture =
        Fixture { table, email_queue, reconcile_queue, app, owner, project, sender, dynamodb: dynamodb.clone(), ses };

    // (label, binary, workload); every variant runs each round, interleaved.
    let per_binary = args.warm + 1 + args.rounds;
    let mut variants: Vec<(String, PathBuf, Workload)> = vec![
        ("floor (hello world)".into(), args.release.join("bench-floor"), workload("floor", &fixture, 0).await),
        (TLS_FLOOR.into(), args.release.join("bench-floor-tls"), workload("floor", &fixture, 0).await),
        (TLS_FLOOR_TWO.into(), args.release.join("bench-floor-tls"), {
            let mut two = workload("floor", &fixture, 0).await;
            two.env.push(("FLOOR_TLS_URL".into(), format!("{},{}", proxies.dynamodb, proxies.moto)));
            two
        }),
    ];
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
    // A function's first invoke is read against the TLS floor that opens as many connections.
    let tls_floors: Vec<f64> =
        (1..=2).map(|i| percentile(&samples[i].init_cpu, 0.5) + percentile(&samples[i].first_cpu, 0.5)).collect();
    let tls_floor = |connections: usize| tls_floors[connections.clamp(1, tls_floors.len()) - 1];
    println!();
    println!(
        "Lambda cold start and invoke figures, x86_64, {} cold starts each (interleaved round-robin), {} warm invokes; \
         DynamoDB Local and moto behind TLS 1.3 endpoints (rustls, a test CA handed over in AWS_CA_BUNDLE; the naive \
         builds load it with the system's roots from SSL_CERT_FILE, as on Amazon Linux). The TLS floor is the hello-world \
         binary making one request over TLS with a minimal rustls client, or one to each of two services; a function's \
         first invoke is read against the one with as many connections (TLS handshakes). CPU from /proc/<pid>/task/*/schedstat; times in \
         ms, medians unless marked; capacity units per invoke as DynamoDB Local reports them (ReturnConsumedCapacity).",
        args.rounds, args.warm
    );
    println!();
    println!("| binary | init CPU | init CPU − floor | init wall p50 (×floor) | init wall p90 | 1st request CPU | init + 1st CPU | conns in 1st | − TLS floor | warm invoke p50 | warm CPU | peak RSS MB | stripped MB | zipped MB | linked | AWS calls / invoke | RCU / invoke | WCU / invoke | conns in init | failures |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for ((label, binary, _), s) in variants.iter().zip(&samples) {
        let (size, zipped, linked) = file_facts(binary);
        let init_cpu = percentile(&s.init_cpu, 0.5);
        let first = percentile(&s.first_cpu, 0.5);
        let wall = percentile(&s.init_wall, 0.5);
        let invokes = s.invokes_counted.max(1) as f64;
        println!(
            "| {label} | {init_cpu:.2} | {:+.2} | {wall:.2} ({:.2}×) | {:.2} | {first:.2} | {:.2} | {} | {:+.2} | {:.2} | {:.3} | {:.1} | {:.2} | {:.2} | {linked} | {} | {:.2} | {:.2} | {} | {} |",
            init_cpu - floor_cpu,
            wall / floor_wall,
            percentile(&s.init_wall, 0.9),
            init_cpu + first,
            s.first_connections,
            init_cpu + first - tls_floor(s.first_connections),
            percentile(&s.warm_latency, 0.5),
            percentile(&s.warm_cpu, 0.5),
            s.hwm_kb as f64 / 1024.0,
            size as f64 / 1e6,
            zipped as f64 / 1e6,
            s.calls_per_invoke(),
            s.usage.read_units / invokes,
            s.usage.write_units / invokes,
            s.foreign_connections,
            s.failures,
        );
    }
    costs(&variants, &samples, &fixture).await;
    if let Some(dir) = std::env::var_os("BENCH_CALLGRIND") {
        first_request_instructions(Path::new(&dir), &variants, &samples);
    }
    let bench = Bench {
        args: &args,
        fixture: &fixture,
        proxies: &proxies,
        dynamodb: &dynamodb,
        sqs: &sqs,
        empty_dir: &empty_dir,
    };
    if !args.sign_ups.is_empty() {
        sign_ups_at_scale(&bench, &args.sign_ups).await;
    }
    if !args.bulk.is_empty() {
        bulk_at_scale(&bench, &args.bulk).await;
    }
    if !args.lists.is_empty() {
        lists_at_scale(&bench, &args.lists).await;
    }
    let _ = std::fs::remove_dir_all(&empty_dir);
}

/// On-demand prices in us-east-1 (arm64 Lambda), read on 2026-12-02 from stored copies of the
/// AWS pricing pages: check them before budgeting.
mod price {
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    pub const SES_EMAIL: f64 = 0.10 / 1000.0;
    pub const PIPES_REQUEST: f64 = 0.40 / 1e6;
    pub const EVENTBRIDGE_EVENT: f64 = 1.00 / 1e6;
}

/// A 128 MB function gets 128/1769 of a vCPU: its CPU time stretches by this much.
const CPU_STRETCH_AT_128_MB: f64 = 1769.0 / 128.0;
/// An in-region AWS call's round trip, assumed (DynamoDB Local's are no guide).
const AWS_CALL_MS: f64 = 8.0;

/// Cost per operation, from the table's warm figures, and of 10,000 invitations end to end.
async fn costs(variants: &[(String, PathBuf, Workload)], samples: &[Samples], fixture: &Fixture) {
    // (function, operation, behind the HTTP API, fed by SQS)
    let operations = [
        ("create-invitation", "invite (POST …/invitations)", true, false),
        ("send-invitation-email", "email it (sender, one SES send)", false, true),
        ("ses-events", "record its delivery (SES event)", false, true),
        ("accept-invitation", "accept (POST …/accept)", true, false),
        ("post-confirmation", "sign-up accepting one invitation", false, false),
        ("list-invitations", "list a page of 50", true, false),
    ];
    println!();
    println!(
        "Cost per operation (warm, per invoke): capacity units as DynamoDB Local reports them; billed duration \
         at 128 MB estimated as warm CPU × {CPU_STRETCH_AT_128_MB:.1} (a 128 MB function's share of a vCPU) + \
         {AWS_CALL_MS} ms per AWS call; dollars per million at on-demand us-east-1 prices (arm64), read 2026-12-02."
    );
    println!();
    println!(
        "| operation | function | AWS calls | RCU | WCU | warm CPU ms | billed ms at 128 MB (est.) | $ per million |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut per_operation = BTreeMap::new();
    for (function, operation, api, queued) in operations {
        let Some(index) = variants.iter().position(|(label, _, _)| label == function) else { continue };
        let s = &samples[index];
        let invokes = s.invokes_counted.max(1) as f64;
        let calls = s.usage.call_count() as f64 / invokes;
        let (read, write) = (s.usage.read_units / invokes, s.usage.write_units / invokes);
        let cpu = percentile(&s.warm_cpu, 0.5);
        let billed = (cpu * CPU_STRETCH_AT_128_MB + calls * AWS_CALL_MS).ceil();
        let mut dollars = price::LAMBDA_REQUEST
            + 0.125 * billed / 1000.0 * price::LAMBDA_GB_SECOND
            + read * price::DYNAMODB_READ_UNIT
            + write * price::DYNAMODB_WRITE_UNIT;
        if api {
            dollars += price::HTTP_API_REQUEST;
        }
        if queued {
            // The poller's receive and delete (one message per batch at this rate).
            dollars += 2.0 * price::SQS_REQUEST;
        }
        if function == "send-invitation-email" {
            dollars += price::SES_EMAIL;
        }
        per_operation.insert(function, dollars);
        println!(
            "| {operation} | {function} | {calls:.1} | {read:.1} | {write:.1} | {cpu:.3} | {billed:.0} | {:.2} |",
            dollars * 1e6
        );
    }
    // One invitation's whole life: its events, each carried by the events pipe to the bus; the
    // email pipe's one message to the email queue; SES's event to its queue.
    let events = lifecycle_events(fixture).await;
    let pipes_and_queues = events as f64 * (price::PIPES_REQUEST + price::EVENTBRIDGE_EVENT)
        + price::PIPES_REQUEST
        + 2.0 * price::SQS_REQUEST;
    let lifecycle = ["create-invitation", "send-invitation-email", "ses-events", "accept-invitation"];
    let missing: Vec<_> = lifecycle.iter().filter(|f| !per_operation.contains_key(**f)).collect();
    if !missing.is_empty() {
        println!();
        println!("10,000 invitations end to end: not measured in this run (without {missing:?}).");
        return;
    }
    let life: f64 = lifecycle.iter().filter_map(|f| per_operation.get(*f)).sum::<f64>() + pipes_and_queues;
    println!();
    println!(
        "10,000 invitations end to end (created, emailed, delivered, accepted; {events} events each through the \
         events pipe to the bus, one email-pipe message, SES's delivery event on its queue): ${:.2} \
         (${:.4} per invitation), of which SES ${:.2}; without the Cognito sign-up, logs, and the pipes' idle stream polling.",
        life * 10_000.0,
        life,
        price::SES_EMAIL * 10_000.0,
    );
}

/// How many events one invitation writes from its creation to its acceptance, delivery included.
async fn lifecycle_events(fixture: &Fixture) -> usize {
    let (invitation, event) = delivered(fixture, 1).await.remove(0);
    let delivery = invitations::mail::ses_events::parse(&event, fixture.app.now()).unwrap().unwrap();
    fixture.app.record_delivery_event(&delivery).await.unwrap();
    fixture.app.accept(&new_user(invitation.email.clone()), &fixture.project, invitation.id).await.unwrap();
    let filter = invitations::store::EventFilter { kind: None, invitation_id: Some(invitation.id) };
    let page = invitations::domain::PageRequest { limit: 100, after: None };
    fixture.app.events(&fixture.owner, &fixture.project, &filter, &page).await.unwrap().items.len()
}

/// An SQS event with one message, as Lambda's poller delivers it.
fn sqs_event(body: &str) -> String {
    json!({"Records": [{
        "messageId": uuid::Uuid::new_v4().to_string(), "receiptHandle": "bench", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:reconcile", "awsRegion": "us-east-1"
    }]})
    .to_string()
}

/// The environment every benchmarked function gets: the table, and quotas wide enough for all
/// the benchmark sends (more than the defaults allow one inviter and one address).
fn function_env(fixture: &Fixture) -> Vec<(String, String)> {
    let mut env = vec![("TABLE_NAME".to_owned(), fixture.table.clone())];
    env.extend(BENCH_QUOTAS.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    env
}

/// Sign-up with 1, 10, 100 and 1,000 pending invitations, each in its own project: a cold
/// post-confirmation invoke accepts what fits in its deadline and hands the rest off; then a cold
/// reconcile-signups invoke with the handed-off message, as the reconcile queue would deliver it.
async fn sign_ups_at_scale(bench: &Bench<'_>, sizes: &[usize]) {
    let (fixture, proxies) = (bench.fixture, bench.proxies);
    println!();
    println!(
        "Sign-up at scale: one new user with N pending invitations in N projects; the trigger (cold start) accepts \
         what fits in its {} ms deadline and hands the rest to the reconcile queue, whose function (cold start) \
         finishes. End to end: from handing the trigger its event to the last acceptance written; AWS calls in \
         flight: how long at least one of the functions' calls was (DynamoDB Local runs one transaction at a time).",
        post_confirmation::ACCEPT_DEADLINE.as_millis()
    );
    println!();
    println!("| pending | trigger invoke ms | accepted by the trigger | handed off | reconcile invoke ms | end to end ms | AWS calls in flight ms | left pending | AWS calls | RCU | WCU | failures |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let store = DynamoStore::new(bench.dynamodb.clone(), fixture.table.clone());
    for &n in sizes {
        let user = signing_up(fixture, 1, n).await.remove(0);
        let email = user.email.clone().unwrap();
        let before = proxies.meter.snapshot();
        let mut trigger = Workload {
            env: [function_env(fixture), vec![("RECONCILE_QUEUE_URL".to_owned(), fixture.reconcile_queue.clone())]]
                .concat(),
            events: Box::new(move |_| confirmation_event(&user)),
        };
        let mut samples = Samples::default();
        let started = Instant::now();
        let binary = bench.args.release.join("post-confirmation");
        run_once(&binary, &mut trigger, &mut 0, 1, proxies, &mut samples, bench.empty_dir).await;
        let left_after_trigger = store.pending_for_email(&email).await.unwrap().len();
        let handed = handed_off(bench.sqs, &fixture.reconcile_queue, &email).await;
        let mut reconcile_ms = String::from("-");
        if let Some(body) = handed.first().cloned() {
            let mut reconcile = Workload { env: function_env(fixture), events: Box::new(move |_| sqs_event(&body)) };
            let mut reconciled = Samples::default();
            let binary = bench.args.release.join("reconcile-signups");
            run_once(&binary, &mut reconcile, &mut 0, 1, proxies, &mut reconciled, bench.empty_dir).await;
            reconcile_ms = format!("{:.0}", percentile(&reconciled.first_latency, 0.5));
            samples.failures += reconciled.failures;
        }
        let end_to_end = started.elapsed().as_secs_f64() * 1e3;
        let left = store.pending_for_email(&email).await.unwrap().len();
        let usage = proxies.meter.snapshot().since(&before);
        println!(
            "| {n} | {:.0} | {} | {} | {reconcile_ms} | {end_to_end:.0} | {:.0} | {left} | {} | {:.1} | {:.1} | {} |",
            percentile(&samples.first_latency, 0.5),
            n - left_after_trigger,
            if handed.is_empty() { "no" } else { "yes" },
            usage.in_flight().as_secs_f64() * 1e3,
            usage.call_count(),
            usage.read_units,
            usage.write_units,
            samples.failures,
        );
    }
}

/// The reconcile queue's message for `email`'s sign-up, if the trigger handed it off (received
/// and deleted, so the next sign-up sees only its own).
async fn handed_off(sqs: &aws_sdk_sqs::Client, queue: &str, email: &str) -> Vec<String> {
    let received = sqs.receive_message().queue_url(queue).max_number_of_messages(10).send().await.unwrap();
    let mut bodies = Vec::new();
    for message in received.messages.unwrap_or_default() {
        sqs.delete_message()
            .queue_url(queue)
            .receipt_handle(message.receipt_handle.unwrap_or_default())
            .send()
            .await
            .unwrap();
        bodies.extend(message.body.filter(|body| body.contains(email)));
    }
    bodies
}

/// Filtered lists in projects of 100, 1,000 and 10,000 invitations, 20 of them pending and the
/// rest expired: what one page costs, warm, whatever the project's size.
async fn lists_at_scale(bench: &Bench<'_>, sizes: &[usize]) {
    const PENDING: usize = 20;
    let fixture = bench.fixture;
    println!();
    println!(
        "Lists at scale: a project of N invitations, {PENDING} pending and the rest expired; each request warm, 5 \
         invokes (after a cold one), per request: items returned, items DynamoDB read (Query ScannedCount plus the \
         items fetched by key), read capacity units, AWS calls."
    );
    println!();
    println!(
        "| invitations in the project | request | items returned | items read | RCU | AWS calls | warm invoke p50 ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(bench.dynamodb.clone(), fixture.table.clone()));
    let wide = invitations::domain::Quotas {
        invitations_per_project_per_day: 1_000_000,
        invitations_per_inviter_per_day: 1_000_000,
        pending_per_address: 1_000,
        projects_per_user: 1_000_000,
    };
    let setup_settings = Settings { quotas: wide, ..Settings::default() };
    let month_ago = invitations::clock::ManualClock::new(time::OffsetDateTime::now_utc() - time::Duration::days(30));
    let past = Invitations::new(store.clone(), Arc::new(month_ago), setup_settings.clone());
    let present = Invitations::new(store, Arc::new(SystemClock), setup_settings);
    for &n in sizes {
        let owner = &fixture.owner;
        let pid = present.create_project(owner, project_named(&format!("Lists {n}"))).await.unwrap().id;
        let create = |app: &Invitations, count: usize| {
            let (app, pid) = (app.clone(), pid.clone());
            async move {
                futures::stream::iter(0..count)
                    .map(|_| {
                        let (app, pid) = (app.clone(), pid.clone());
                        async move { app.create_invitation(owner, &pid, editor(&unique_email("listed"))).await.unwrap() }
                    })
                    .buffer_unordered(16)
                    .collect::<Vec<_>>()
                    .await
            }
        };
        let started = Instant::now();
        create(&past, n - PENDING).await;
        let pending = create(&present, PENDING).await;
        eprintln!("lists: a project of {n} invitations set up in {:.1} s", started.elapsed().as_secs_f64());
        // One of the pending invitations: its address, its events, and its invitee's own list.
        let one = &pending[0];
        let invitee = Caller {
            user_id: UserId::parse(&format!("bench-invitee-{n}")).unwrap(),
            email: Some(one.email.clone()),
            email_verified: true,
        };
        let invitations = ("list-invitations", "GET /api/v1/projects/{pk}/invitations", "invitations");
        let events = ("list-events", "GET /api/v1/projects/{pk}/events", "events");
        let requests = [
            (invitations, "status=1&limit=50".to_owned()),
            (invitations, "status=5&limit=50".to_owned()),
            (invitations, "limit=50".to_owned()),
            (invitations, "delivery_status=queued&limit=50".to_owned()),
            (invitations, "delivery_status=bounced,failed&limit=50".to_owned()),
            (invitations, "status=1&delivery_status=queued&limit=50".to_owned()),
            (invitations, format!("email={}&limit=50", one.email)),
            (events, "type=invitation.created&limit=50".to_owned()),
            (events, "type=invitation.revoked&limit=50".to_owned()),
            (events, format!("invitation_id={}&limit=50", one.id)),
        ];
        for ((function, route, resource), query) in requests {
            let path = format!("/api/v1/projects/{pid}/{resource}");
            list_request(bench, n, function, route, &path, &query, json!({"pk": pid}), &fixture.owner).await;
        }
        let route = my_invitations::ROUTE.trim_start_matches("GET ");
        list_request(bench, n, "my-invitations", my_invitations::ROUTE, route, "", json!({}), &invitee).await;
    }
}

/// One list request, a cold invoke and 5 warm: a row of the lists table.
#[allow(clippy::too_many_arguments)]
async fn list_request(
    bench: &Bench<'_>,
    n: usize,
    function: &str,
    route: &'static str,
    path: &str,
    query: &str,
    params: Value,
    caller: &Caller,
) {
    let (path, query, caller) = (path.to_owned(), query.to_owned(), caller.clone());
    let shown = if query.is_empty() { path.clone() } else { format!("{}?{query}", path.rsplit('/').next().unwrap()) };
    let mut workload = Workload {
        env: function_env(bench.fixture),
        events: Box::new(move |_| api_event(route, "GET", &path, &query, params.clone(), None, &caller)),
    };
    let mut samples = Samples::default();
    let binary = bench.args.release.join(function);
    run_once(&binary, &mut workload, &mut 0, 6, bench.proxies, &mut samples, bench.empty_dir).await;
    // The cold invoke's calls included: per invoke they are the same.
    let invokes = samples.invokes_counted.max(1) as f64;
    println!(
        "| {n} | `{shown}` | {} | {:.0} | {:.1} | {} | {:.1} |",
        samples.last_items,
        samples.usage.items_read as f64 / invokes,
        samples.usage.read_units / invokes,
        samples.calls_per_invoke(),
        percentile(&samples.warm_latency, 0.5),
    );
}

async fn bulk_at_scale(bench: &Bench<'_>, sizes: &[usize]) {
    const INVOKES: usize = 4;
    let fixture = bench.fixture;
    println!();
    println!(
        "Bulk invitations: one request of N rows, each to a new address, to a project of its own; a cold invoke \
         and {} warm, per request: AWS calls, calls made one after another (the longest chain of calls each \
         made after the one before answered), write capacity units, latency against DynamoDB Local (which runs \
         transactions one at a time).",
        INVOKES - 1
    );
    println!();
    println!("| rows | AWS calls | sequential calls | WCU | cold request ms | warm request p50 ms |");
    println!("|---|---|---|---|---|---|");
    let app = Invitations::new(
        Arc::new(DynamoStore::new(bench.dynamodb.clone(), fixture.table.clone())),
        Arc::new(SystemClock),
        Settings::default(),
    );
    for &rows in sizes {
        let mut projects = Vec::new();
        for i in 0..INVOKES {
            projects
                .push(app.create_project(&fixture.owner, project_named(&format!("Bulk {rows} {i}"))).await.unwrap().id);
        }
        let owner = fixture.owner.clone();
        let mut workload = Workload {
            env: function_env(fixture),
            events: Box::new(move |i| {
                let pid = &projects[i];
                let body: Vec<_> =
                    (0..rows).map(|_| json!({"email": unique_email("bulk"), "role": "readonly"})).collect();
                let path = format!("/api/v1/projects/{pid}/invitations/bulk");
                let route = "POST /api/v1/projects/{pk}/invitations/bulk";
                api_event(route, "POST", &path, "", json!({"pk": pid}), Some(&json!(body).to_string()), &owner)
            }),
        };
        let mut samples = Samples::default();
        let binary = bench.args.release.join("bulk-invite");
        run_once(&binary, &mut workload, &mut 0, INVOKES, bench.proxies, &mut samples, bench.empty_dir).await;
        let invokes = samples.invokes_counted.max(1) as f64;
        println!(
            "| {rows} | {} | {:.1} | {:.0} | {:.0} | {:.0} |",
            samples.calls_per_invoke(),
            samples.usage.sequential_calls() as f64 / invokes,
            samples.usage.write_units / invokes,
            samples.first_latency.first().copied().unwrap_or_default(),
            percentile(&samples.warm_latency, 0.5),
        );
    }
}

/// What the sections after the main table share.
struct Bench<'a> {
    args: &'a Args,
    fixture: &'a Fixture,
    proxies: &'a Proxies,
    dynamodb: &'a aws_sdk_dynamodb::Client,
    sqs: &'a aws_sdk_sqs::Client,
    empty_dir: &'a Path,
}
