//! A stand-in for Amazon EventBridge Pipes, kept in the project for the tests and the local run
//! (no emulator of Pipes exists): the pipes `template.yaml` declares, read from the template
//! itself (filter criteria, input template, target, detail type), applied to DynamoDB stream
//! records. The filter a test exercises is the filter that is deployed.
//!
//! `pattern` matches EventBridge event patterns, `input_template` fills input templates, and
//! `stream` reads a DynamoDB Local table's stream as Pipes would.

pub mod input_template;
pub mod pattern;
pub mod stream;

use serde_json::Value;
use serde_norway::Value as Yaml;

/// One `AWS::Pipes::Pipe` of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    /// The pipe's logical id.
    pub name: String,
    /// `SourceParameters.FilterCriteria.Filters[].Pattern`: a record passes if any matches.
    pub filters: Vec<Value>,
    /// `TargetParameters.InputTemplate`, if any: otherwise the record goes as it is.
    pub input_template: Option<String>,
    /// The logical id of the target resource (a queue, an event bus).
    pub target: String,
    /// For an event bus target: `DetailType` and `Source` (either may be a `$.` path).
    pub detail_type: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template.yaml is not YAML")]
    Yaml(#[from] serde_norway::Error),
    #[error("pipe {0}: {1}")]
    Pipe(String, &'static str),
    #[error("pipe {0}: a filter pattern is not JSON")]
    Pattern(String, #[source] serde_json::Error),
}

/// What a pipe hands its target for one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub pipe: String,
    pub target: String,
    /// The message body (queue) or event detail (bus).
    pub body: String,
    pub detail_type: Option<String>,
    pub source: Option<String>,
}

impl Pipe {
    /// Every pipe of a SAM/CloudFormation template.
    pub fn all_in(template_yaml: &str) -> Result<Vec<Pipe>, TemplateError> {
        let doc: Yaml = serde_norway::from_str(template_yaml)?;
        let Some(resources) = doc["Resources"].as_mapping() else {
            return Ok(Vec::new());
        };
        let mut pipes = Vec::new();
        for (id, resource) in resources {
            if resource["Type"].as_str() != Some("AWS::Pipes::Pipe") {
                continue;
            }
            let name = id.as_str().unwrap_or_default().to_owned();
            let properties = &resource["Properties"];
            let mut filters = Vec::new();
            if let Some(list) = properties["SourceParameters"]["FilterCriteria"]["Filters"].as_sequence() {
                for filter in list {
                    let text = filter["Pattern"]
                        .as_str()
                        .ok_or(TemplateError::Pipe(name.clone(), "a pattern is not a string"))?;
                    filters.push(serde_json::from_str(text).map_err(|err| TemplateError::Pattern(name.clone(), err))?);
                }
            }
            let target = logical_id(&properties["Target"]).ok_or(TemplateError::Pipe(name.clone(), "no target"))?;
            let parameters = &properties["TargetParameters"];
            let bus = &parameters["EventBridgeEventBusParameters"];
            pipes.push(Pipe {
                name,
                filters,
                input_template: parameters["InputTemplate"].as_str().map(str::to_owned),
                target,
                detail_type: bus["DetailType"].as_str().map(str::to_owned),
                source: bus["Source"].as_str().map(str::to_owned),
            });
        }
        Ok(pipes)
    }

    /// Does the record pass the pipe's filter?
    pub fn accepts(&self, record: &Value) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|filter| pattern::matches(filter, record))
    }

    /// What the pipe delivers for `record`, or `None` when its filter drops it. `Err` when the
    /// input template names a path the record lacks (the real pipe fails such a record).
    pub fn deliver(&self, record: &Value) -> Result<Option<Delivery>, String> {
        if !self.accepts(record) {
            return Ok(None);
        }
        let body = match &self.input_template {
            Some(template) => input_template::render(template, record)
                .ok_or_else(|| format!("pipe {}: the input template names a path the record lacks", self.name))?,
            None => record.to_string(),
        };
        let dynamic = |value: &Option<String>| {
            value.as_ref().map(|v| match v.strip_prefix("$.") {
                Some(_) => input_template::lookup(record, v).and_then(Value::as_str).unwrap_or_default().to_owned(),
                None => v.clone(),
            })
        };
        Ok(Some(Delivery {
            pipe: self.name.clone(),
            target: self.target.clone(),
            body,
            detail_type: dynamic(&self.detail_type),
            source: dynamic(&self.source),
        }))
    }
}

/// The logical id a `!GetAtt X.Arn`, `!Ref X` or `{"Fn::GetAtt": [X, Arn]}` names.
fn logical_id(value: &Yaml) -> Option<String> {
    match value {
        Yaml::Tagged(tagged) => {
            let inner = tagged.value.as_str()?;
            Some(inner.split('.').next()?.to_owned())
        }
        Yaml::Mapping(map) => {
            let (_, inner) = map.iter().next()?;
            match inner {
                Yaml::Sequence(parts) => parts.first()?.as_str().map(str::to_owned),
                other => other.as_str().map(str::to_owned),
            }
        }
        other => other.as_str().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"
Resources:
  Queue:
    Type: AWS::SQS::Queue
  EmailPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      Source: !GetAtt Table.StreamArn
      SourceParameters:
        FilterCriteria:
          Filters:
            - Pattern: '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"send_id": {"S": [{"exists": true}]}}}}'
      Target: !GetAtt Queue.Arn
      TargetParameters:
        InputTemplate: '{"send_id": "<$.dynamodb.NewImage.send_id.S>"}'
  BusPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      Source: !GetAtt Table.StreamArn
      Target: !GetAtt Bus.Arn
      TargetParameters:
        EventBridgeEventBusParameters:
          DetailType: $.dynamodb.NewImage.type.S
          Source: project-invitations
"#;

    #[test]
    fn pipes_are_read_from_the_template_and_applied_as_declared() {
        let pipes = Pipe::all_in(TEMPLATE).unwrap();
        assert_eq!(pipes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["EmailPipe", "BusPipe"]);
        let record = json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"send_id": {"S": "s1"}, "type": {"S": "invitation.created"}}}});
        let email = pipes[0].deliver(&record).unwrap().unwrap();
        assert_eq!((email.target.as_str(), email.body.as_str()), ("Queue", r#"{"send_id": "s1"}"#));
        let bus = pipes[1].deliver(&record).unwrap().unwrap();
        assert_eq!(bus.detail_type.as_deref(), Some("invitation.created"));
        assert_eq!(bus.source.as_deref(), Some("project-invitations"));
        let no_send = json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"type": {"S": "x"}}}});
        assert_eq!(pipes[0].deliver(&no_send).unwrap(), None);
    }

    #[test]
    fn the_projects_own_template_declares_its_two_pipes() {
        let pipes = Pipe::all_in(include_str!("../../../template.yaml")).unwrap();
        let mut names: Vec<_> = pipes.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["EmailPipe", "EventsPipe"]);
    }
}
