//! A DynamoDB table's stream read as a pipe reads it: every shard from its start, records in
//! order, each as the JSON record Pipes filters and transforms (`eventName`, `dynamodb.Keys`,
//! `dynamodb.NewImage`, ... with attribute values in DynamoDB's JSON).

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
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
            dynamodb.insert("Keys".into(), stream_json::image(&keys));
        }
        if let Some(new) = change.new_image {
            dynamodb.insert("NewImage".into(), stream_json::image(&new));
        }
        if let Some(old) = change.old_image {
            dynamodb.insert("OldImage".into(), stream_json::image(&old));
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

/// A stream record for an item just inserted, as DynamoDB writes it: what the local run makes of
/// the in-memory store's commit log, so the same pipes read the same records as from a stream.
pub fn insert_record(event_id: &str, item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Value {
    let image = table_json::image(item);
    json!({
        "eventID": event_id,
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": { "Keys": { "PK": image["PK"], "SK": image["SK"] }, "NewImage": image },
    })
}

/// Items in DynamoDB's JSON (`{"S": "..."}`, `{"N": "1"}`, `{"M": {...}}`, ...): one body for the
/// two SDKs' `AttributeValue`s (the stream's and the table's), which have the same variants.
macro_rules! dynamodb_json {
    ($module:ident, $attribute_value:ty) => {
        mod $module {
            use super::*;
            type Av = $attribute_value;

            pub fn image(item: &HashMap<String, Av>) -> Value {
                Value::Object(item.iter().map(|(name, value)| (name.clone(), attribute(value))).collect())
            }

            fn attribute(value: &Av) -> Value {
                let blob = |b: &aws_smithy_types::Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
                match value {
                    Av::S(s) => json!({ "S": s }),
                    Av::N(n) => json!({ "N": n }),
                    Av::B(b) => json!({ "B": blob(b) }),
                    Av::Bool(b) => json!({ "BOOL": b }),
                    Av::Null(n) => json!({ "NULL": n }),
                    Av::Ss(values) => json!({ "SS": values }),
                    Av::Ns(values) => json!({ "NS": values }),
                    Av::Bs(values) => json!({ "BS": values.iter().map(blob).collect::<Vec<_>>() }),
                    Av::M(map) => json!({ "M": image(map) }),
                    Av::L(list) => json!({ "L": list.iter().map(attribute).collect::<Vec<_>>() }),
                    _ => Value::Null,
                }
            }
        }
    };
}
dynamodb_json!(stream_json, aws_sdk_dynamodbstreams::types::AttributeValue);
dynamodb_json!(table_json, aws_sdk_dynamodb::types::AttributeValue);
