//! The logs as CloudWatch gets them, in the functions' own format: every line of a request
//! carries its route and ids, an SQS message's lines carry its message id, a failure is logged
//! with its whole cause, and no line holds an email address.

use integration_tests::*;
use invitations::store::dynamodb::DynamoStore;
use invitations::wiring::json_logs;
use invitations::{Invitations, Settings};
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing::level_filters::LevelFilter;

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
    fn lines(&self) -> Vec<Value> {
        self.text().lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
    }
}

/// The line whose message is `message`.
fn line<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines.iter().find(|l| l["fields"]["message"] == message).unwrap_or_else(|| panic!("no line {message:?}"))
}

/// The fields of the span named `name` that the line is in.
fn span<'a>(line: &'a Value, name: &str) -> &'a Value {
    let spans = line["spans"].as_array().unwrap_or_else(|| panic!("no spans in {line}"));
    spans.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no {name} span in {line}"))
}

#[tokio::test]
async fn every_line_carries_its_ids_and_its_cause_and_no_line_an_address() {
    let logs = Capture::default();
    let logs_writer = logs.clone();
    let subscriber = json_logs(LevelFilter::INFO, move || logs_writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let invitee = unique_email("private.person");
    let id = api.invite(&owner, &pid, &invitee, "editor").await;

    // The same API over a table nobody answers for: a 503, logged with its cause.
    let unreachable = aws_sdk_dynamodb::Client::new(&sdk_config("http://127.0.0.1:1"));
    let down = Invitations::new(Arc::new(DynamoStore::new(unreachable, "t")), api.clock.clone(), Settings::default());
    let path = format!("/api/v1/projects/{pid}/invitations/{id}");
    assert_eq!(api.call_raw(&down, "GET", &path, None, Some(&owner)).await.status, 503);

    // An SQS record that can never be read.
    let garbage = sqs_event(&[("message-7".into(), "not an event".into())]);
    ses_events::handle(&api.app.clone(), garbage).await.unwrap();

    let lines = logs.lines();
    let created = line(&lines, "invitation created");
    let request = span(created, "request");
    assert_eq!(request["route"], "POST /api/v1/projects/{pk}/invitations");
    assert_eq!(request["project_id"], pid.as_str());
    assert_eq!(created["fields"]["invitation_id"], id.as_str());
    span(created, "create_invitation");

    let failed = line(&lines, "request failed");
    assert_eq!(span(failed, "request")["invitation_id"], id.as_str());
    let error = failed["fields"]["error"].as_str().unwrap();
    assert!(error.starts_with("a dependency is unavailable: storage unavailable: "), "{error}");
    assert!(
        error.len() > "a dependency is unavailable: storage unavailable: ".len(),
        "the SDK's cause follows: {error}"
    );

    let record = line(&lines, "record failed; reported for retry");
    assert_eq!(span(record, "message")["message_id"], "message-7");
    assert!(record["fields"]["error"].as_str().unwrap().starts_with("not an SES event: "));

    let text = logs.text();
    assert!(!text.contains(&invitee) && !text.contains('@'), "an address reached the logs:\n{text}");
}
