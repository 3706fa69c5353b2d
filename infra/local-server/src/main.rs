//! `make run`: the whole API on http://127.0.0.1:3000 with no AWS, no Docker and no Java.
//!
//! Environment: `PORT` (3000), `OUTBOX` (./outbox). To use emulators instead of memory:
//! `LOCAL_STORE=dynamodb` (with `AWS_ENDPOINT_URL_DYNAMODB`, `TABLE_NAME`), `LOCAL_QUEUE=sqs`
//! (with `AWS_ENDPOINT_URL_SQS`, `EMAIL_QUEUE_URL`), `LOCAL_MAILER=ses` (with
//! `AWS_ENDPOINT_URL_SESV2`, `SENDER_EMAIL`). The service's own settings are read as in AWS.

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use invitations::clock::SystemClock;
use invitations::mail::ses::SesMailer;
use invitations::mail::Mailer;
use invitations::queue::memory::MemoryQueue;
use invitations::queue::sqs::SqsQueue;
use invitations::queue::Queue;
use invitations::sdk_config::{dynamodb_client, sdk_config, ses_client, sqs_client, Timeouts};
use invitations::service::{EmailDelivery, SlackInvites};
use invitations::slack::outbox::{LocalSecrets, OutboxSlack};
use invitations::store::dynamodb::DynamoStore;
use invitations::store::memory::MemoryStore;
use invitations::store::Store;
use invitations::wiring::{required_env, settings_from_env, templates_from_env};
use invitations::Invitations;
use local_server::identity::LocalIdentity;
use local_server::outbox::OutboxMailer;
use local_server::relay::{BusRule, Changes, Relay};
use local_server::server::{Inbox, LocalApi};
use pipes_emulator::stream::StreamReader;
use post_confirmation::{Trigger, ACCEPT_DEADLINE};
use send_invitation_email::Sender;
use slack_invite::SlackInviter;
use std::sync::Arc;
use tokio::sync::Mutex;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// The stream of an existing table.
async fn stream_of(aws: &aws_config::SdkConfig, table: &str) -> Result<String, BoxError> {
    let described = dynamodb_client(aws).describe_table().table_name(table).send().await?;
    let arn = described.table.and_then(|t| t.latest_stream_arn);
    arn.ok_or_else(|| format!("table {table} has no stream: delete it and let the local server create it").into())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let port: u16 = setting("PORT", "3000").parse()?;
    if std::env::var("PROJECT_INVITATION_URL").is_err() && std::env::var("API_BASE_URL").is_err() {
        std::env::set_var("API_BASE_URL", format!("http://127.0.0.1:{port}"));
    }
    let settings = settings_from_env()?;
    let aws = sdk_config(Timeouts::API).await;

    let (store, changes): (Arc<dyn Store>, Changes) = match setting("LOCAL_STORE", "memory").as_str() {
        "dynamodb" => {
            let store = DynamoStore::new(dynamodb_client(&aws), setting("TABLE_NAME", "invitations-local"))
                .retaining_events_for(settings.event_retention);
            let stream_arn = match store.create_table().await {
                Ok(arn) => arn,
                Err(_) => stream_of(&aws, &setting("TABLE_NAME", "invitations-local")).await?,
            };
            let mut streams = aws_sdk_dynamodbstreams::config::Builder::from(&aws);
            streams.set_endpoint_url(invitations::sdk_config::endpoint_for("DYNAMODB"));
            let streams = aws_sdk_dynamodbstreams::Client::from_conf(streams.build());
            (Arc::new(store), Changes::Stream(Mutex::new(StreamReader::new(streams, stream_arn))))
        }
        _ => {
            let store = Arc::new(MemoryStore::new());
            let changes = Changes::Memory {
                store: store.clone(),
                read: std::sync::Mutex::new(0),
                retention: settings.event_retention,
            };
            (store, changes)
        }
    };
    let (email_queue, emails): (Arc<dyn Queue>, Inbox) = match setting("LOCAL_QUEUE", "memory").as_str() {
        "sqs" => {
            let url = required_env("EMAIL_QUEUE_URL")?;
            (Arc::new(SqsQueue::new(sqs_client(&aws), url.clone())), Inbox::Sqs { client: sqs_client(&aws), url })
        }
        _ => {
            let queue = Arc::new(MemoryQueue::new());
            (queue.clone(), Inbox::Memory(queue))
        }
    };
    let outbox = std::path::PathBuf::from(setting("OUTBOX", "outbox"));
    let sender_email = setting("SENDER_EMAIL", "invitations@localhost.localdomain");
    let mailer: Arc<dyn Mailer> = match setting("LOCAL_MAILER", "outbox").as_str() {
        "ses" => Arc::new(SesMailer::new(ses_client(&aws), sender_email, None)),
        _ => Arc::new(OutboxMailer { folder: outbox.clone(), from: sender_email }),
    };

    let delivery =
        EmailDelivery::new(store.clone(), Arc::new(SystemClock), settings.clone(), mailer, templates_from_env());
    let app = Invitations::new(store.clone(), Arc::new(SystemClock), settings);
    let reconcile_queue = Arc::new(MemoryQueue::new());
    // Slack: the template's rule feeds the consumer, whose calls are written to the outbox.
    let slack_queue = Arc::new(MemoryQueue::new());
    let slack = SlackInviter {
        invites: SlackInvites::new(
            store.clone(),
            Arc::new(SystemClock),
            Arc::new(OutboxSlack { dir: outbox.clone() }),
            Arc::new(LocalSecrets),
        ),
        redelivery: Arc::new(MemoryQueue::new()),
    };
    let relay = Relay {
        changes,
        pipes: Relay::template_pipes(),
        email_queue,
        events_file: outbox.join("events.jsonl"),
        slack_rule: BusRule::from_template("SlackRule"),
        slack_queue: slack_queue.clone(),
    };
    let local = Arc::new(LocalApi {
        app: app.clone(),
        routes: local_server::routes(),
        identity: LocalIdentity::default(),
        trigger: Trigger { app, reconcile_queue: reconcile_queue.clone(), deadline: ACCEPT_DEADLINE },
        sender: Sender { delivery, redelivery: Arc::new(MemoryQueue::new()) },
        relay,
        emails,
        reconciles: Inbox::Memory(reconcile_queue),
        slack,
        slack_events: Inbox::Memory(slack_queue),
        wake: tokio::sync::Notify::new(),
    });
    tokio::spawn(local.clone().deliver_forever());

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("serving the API at http://127.0.0.1:{port} (emails go to {})", outbox.display());
    loop {
        let (stream, _) = listener.accept().await?;
        let local = local.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let local = local.clone();
                async move { Ok::<_, std::convert::Infallible>(local.serve(request).await) }
            });
            if let Err(err) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(error = %err, "connection closed");
            }
        });
    }
}
