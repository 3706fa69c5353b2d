//! A DynamoDB table's stream read as a pipe reads it: every shard from its start, records in
//! order, each as the JSON record Pipes filters and transforms (`eventName`, `dynamodb.Keys`,
//! `dynamodb.NewImage`, ... with attribute values in DynamoDB's JSON).

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

pub type StreamError = Box<dyn std::error::Error + Send + Sync>;

/// Where reading a stream has got to.
pub struct StreamReader {
    client: Client,
    stream_arn: String,
    /// The next iterator of each shard being read.
    iterators: HashMap<String, String>,
    /// Shards read to their end.
    finished: HashSet<String>,
}

impl StreamReader {
    pub fn new(client: Client, stream_arn: impl Into<String>) -> Self {
        Self { client, stream_arn: stream_arn.into(), iterators: HashMap::new(), finished: HashSet::new() }
    }

    /// Every record written since the last call, in stream order within each shard.
    pub async fn read(&mut self) -> Result<Vec<Value>, StreamError> {
        let description = self.client.describe_stream().stream_arn(&self.stream_arn).send().await?;
        let shards = description.stream_description.map(|d| d.shards.unwrap_or_default()).unwrap_or_default();
        let mut records = Vec::new();
        for shard in shards {
            let Some(id) = shard.shard_id else { continue };
            if self.finished.contains(&id) {
                continue;
            }
            let mut iterator = match self.iterators.remove(&id) {
                Some(iterator) => iterator,
                None => {
                    let out = self
                        .client
                        .get_shard_iterator()
                        .stream_arn(&self.stream_arn)
                        .shard_id(&id)
                        .shard_iterator_type(ShardIteratorType::TrimHorizon)
                        .send()
                        .await?;
                    out.shard_iterator.ok_or("no shard iterator")?
                }
            };
            loop {
                let out = self.client.get_records().shard_iterator(&iterator).send().await?;
                let batch = out.records.unwrap_or_default();
                let empty = batch.is_empty();
                records.extend(batch.into_iter().map(record_json));
                match out.next_shard_iterator {
                    Some(next) if !empty => iterator = next,
                    Some(next) => {
                        self.iterators.insert(id.clone(), next);
                        break;
                    }
                    None => {
                        self.finished.insert(id.clone());
                        break;
                    }
                }
            }
        }
        Ok(records)
    }
}

/// A stream record as Pipes sees it.
pub fn record_json(record: Record) -> Value {
    let mut dynamodb = Map::new();
    if let Some(change) = record.dynamodb {
        if let Some(keys) = change.keys {
            dynamodb.insert("Keys".into(), image(keys));
        }
        if let Some(new) = change.new_image {
            dynamodb.insert("NewImage".into(), image(new));
        }
        if let Some(old) = change.old_image {
            dynamodb.insert("OldImage".into(), image(old));
        }
        if let Some(sequence) = change.sequence_number {
            dynamodb.insert("SequenceNumber".into(), Value::String(sequence));
        }
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.map(|name| name.as_str().to_owned()),
        "eventSource": "aws:dynamodb",
        "eventVersion": record.event_version,
        "awsRegion": record.aws_region,
        "dynamodb": dynamodb,
    })
}

fn image(attributes: HashMap<String, AttributeValue>) -> Value {
    Value::Object(attributes.into_iter().map(|(name, value)| (name, attribute(value))).collect())
}

/// One attribute value in DynamoDB's JSON: `{"S": "..."}`, `{"N": "1"}`, `{"M": {...}}`, ...
fn attribute(value: AttributeValue) -> Value {
    let blob = |b: aws_sdk_dynamodbstreams::primitives::Blob| {
        Value::String(base64::engine::general_purpose::STANDARD.encode(b.into_inner()))
    };
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": blob(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::Ss(values) => json!({ "SS": values }),
        AttributeValue::Ns(values) => json!({ "NS": values }),
        AttributeValue::Bs(values) => json!({ "BS": values.into_iter().map(blob).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": image(map) }),
        AttributeValue::L(list) => json!({ "L": list.into_iter().map(attribute).collect::<Vec<_>>() }),
        _ => Value::Null,
    }
}
