//! The local run's pipes: the table's changes, in commit order, through the pipes `template.yaml`
//! declares (the same filters and templates as in AWS, by the project's pipe emulator). Send
//! requests go on the email queue; events for the bus are appended to `outbox/events.jsonl`.

use invitations::domain::Event;
use invitations::queue::Queue;
use invitations::store::dynamodb::event_item;
use invitations::store::memory::MemoryStore;
use pipes_emulator::stream::{insert_record, StreamReader};
use pipes_emulator::Pipe;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::Mutex as AsyncMutex;

/// Where the table's changes come from.
pub enum Changes {
    /// The in-memory store's commit log.
    Memory { store: Arc<MemoryStore>, read: Mutex<usize>, retention: time::Duration },
    /// A DynamoDB (Local) table's stream.
    Stream(AsyncMutex<StreamReader>),
}

impl Changes {
    /// The stream records written since the last call, in commit order.
    async fn next_records(&self) -> Vec<Value> {
        match self {
            Changes::Memory { store, read, retention } => {
                let mut read = read.lock().unwrap_or_else(|p| p.into_inner());
                let events: Vec<Event> = store.events_since(*read);
                *read += events.len();
                events
                    .iter()
                    .map(|event| insert_record(&event.id.to_string(), &event_item(event, *retention)))
                    .collect()
            }
            Changes::Stream(reader) => match reader.lock().await.read().await {
                Ok(records) => records,
                Err(err) => {
                    tracing::warn!(error = %err, "could not read the table's stream");
                    Vec::new()
                }
            },
        }
    }
}

pub struct Relay {
    pub changes: Changes,
    pub pipes: Vec<Pipe>,
    pub email_queue: Arc<dyn Queue>,
    /// The event bus's stand-in: one JSON event per line.
    pub events_file: PathBuf,
    /// The template's `SlackRule`, and the queue it feeds.
    pub slack_rule: BusRule,
    pub slack_queue: Arc<dyn Queue>,
}

/// An EventBridge rule of the template that matches on `source` and `detail-type`.
#[derive(Debug, Clone, Default)]
pub struct BusRule {
    sources: Vec<String>,
    detail_types: Vec<String>,
}

impl BusRule {
    /// The rule `name` of the project's own `template.yaml`.
    pub fn from_template(name: &str) -> BusRule {
        let template: serde_norway::Value =
            serde_norway::from_str(include_str!("../../../template.yaml")).expect("template.yaml parses");
        let pattern = &template["Resources"][name]["Properties"]["EventPattern"];
        let list = |key: &str| -> Vec<String> {
            pattern[key].as_sequence().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
        };
        BusRule { sources: list("source"), detail_types: list("detail-type") }
    }

    pub fn matches(&self, source: Option<&str>, detail_type: Option<&str>) -> bool {
        source.is_some_and(|s| self.sources.iter().any(|w| w == s))
            && detail_type.is_some_and(|t| self.detail_types.iter().any(|w| w == t))
    }
}

impl Relay {
    /// The pipes of the project's own `template.yaml`.
    pub fn template_pipes() -> Vec<Pipe> {
        Pipe::all_in(include_str!("../../../template.yaml")).expect("template.yaml declares its pipes")
    }

    /// Carries every new change through the pipes; returns how many deliveries it made.
    pub async fn run_once(&self) -> usize {
        let mut delivered = 0;
        for record in self.changes.next_records().await {
            for pipe in &self.pipes {
                match pipe.deliver(&record) {
                    Ok(Some(delivery)) if delivery.target == "EmailQueue" => {
                        if let Err(err) = self.email_queue.send(delivery.body).await {
                            tracing::error!(error = %err, "could not queue a send request");
                        }
                        delivered += 1;
                    }
                    Ok(Some(delivery)) => {
                        self.publish(&delivery);
                        delivered += 1;
                    }
                    Ok(None) => {}
                    Err(reason) => tracing::error!(%reason, "a pipe failed a record (its DLQ in AWS)"),
                }
            }
        }
        delivered
    }

    fn publish(&self, delivery: &pipes_emulator::Delivery) {
        let detail: Value = serde_json::from_str(&delivery.body).unwrap_or(Value::String(delivery.body.clone()));
        let event = serde_json::json!({
            "source": delivery.source,
            "detail-type": delivery.detail_type,
            "detail": detail,
        });
        tracing::info!(detail_type = delivery.detail_type.as_deref().unwrap_or_default(), "event published");
        if self.slack_rule.matches(delivery.source.as_deref(), delivery.detail_type.as_deref()) {
            let slack_queue = self.slack_queue.clone();
            let body = event.to_string();
            tokio::spawn(async move {
                if let Err(err) = slack_queue.send(body).await {
                    tracing::error!(error = %err, "could not queue a Slack invitation");
                }
            });
        }
        let written = std::fs::create_dir_all(self.events_file.parent().unwrap_or(std::path::Path::new(".")))
            .and_then(|_| std::fs::OpenOptions::new().create(true).append(true).open(&self.events_file))
            .and_then(|mut file| writeln!(file, "{event}"));
        if let Err(err) = written {
            tracing::warn!(error = %err, "could not write the event to the outbox");
        }
    }
}
