//! What IAM authorizes for each AWS call a function makes, and what `template.yaml` grants each
//! function: the least-privilege test (`tests/tests/iam.rs`) compares the two.
//!
//! Permissions are named as in the template, by logical id: `("dynamodb:PutItem", "Table")`,
//! `("sqs:SendMessage", "ReconcileQueue")`, `("ses:SendEmail", "identity/noreply@example.com")`.

use crate::fault_proxy::Call;
use serde_norway::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};

/// An IAM action and the resource it is checked on.
pub type Permission = (String, String);

/// The run's physical resource names (table name, queue URL, configuration set name) by the
/// template's logical id.
#[derive(Debug, Default, Clone)]
pub struct Resources(BTreeMap<String, String>);

impl Resources {
    pub fn name(mut self, physical: impl Into<String>, logical: &str) -> Self {
        self.0.insert(physical.into(), logical.to_owned());
        self
    }

    fn logical(&self, physical: &str) -> String {
        self.0.get(physical).cloned().unwrap_or_else(|| format!("unknown resource {physical}"))
    }
}

/// The permissions IAM checks for these calls. A transaction is authorized item by item, as
/// the action of each item (`Put` → `dynamodb:PutItem`, `ConditionCheck` →
/// `dynamodb:ConditionCheckItem`): there is no `dynamodb:TransactWriteItems` action.
pub fn permissions_used(calls: &[Call], resources: &Resources) -> BTreeSet<Permission> {
    let mut used = BTreeSet::new();
    for call in calls {
        let action = |name: &str| format!("{}:{name}", call.service);
        match (call.service, call.operation.as_str()) {
            ("dynamodb", "TransactWriteItems" | "TransactGetItems") => {
                for item in call.body["TransactItems"].as_array().into_iter().flatten() {
                    let (kind, request) = item.as_object().and_then(|o| o.iter().next()).expect("a transact item");
                    let name = match kind.as_str() {
                        "ConditionCheck" => "ConditionCheckItem".to_owned(),
                        other => format!("{other}Item"),
                    };
                    used.insert((action(&name), table(request, resources)));
                }
            }
            ("dynamodb", "BatchGetItem" | "BatchWriteItem") => {
                for table in call.body["RequestItems"].as_object().into_iter().flat_map(|tables| tables.keys()) {
                    used.insert((action(&call.operation), resources.logical(table)));
                }
            }
            ("dynamodb", operation) => {
                used.insert((action(operation), table(&call.body, resources)));
            }
            ("sqs", operation) => {
                let queue = call.body["QueueUrl"].as_str().unwrap_or_default();
                used.insert((action(operation), resources.logical(queue)));
            }
            ("ses", "SendEmail") => {
                let from = call.body["FromEmailAddress"].as_str().unwrap_or_default();
                used.insert((action("SendEmail"), format!("identity/{from}")));
                if let Some(set) = call.body["ConfigurationSetName"].as_str() {
                    used.insert((action("SendEmail"), format!("configuration-set/{}", resources.logical(set))));
                }
            }
            ("secretsmanager", "GetSecretValue") => {
                // arn:partition:secretsmanager:region:account:secret:name → secret:name
                let arn = call.body["SecretId"].as_str().unwrap_or_default();
                used.insert((action("GetSecretValue"), arn.splitn(6, ':').nth(5).unwrap_or(arn).to_owned()));
            }
            (service, operation) => panic!("a call this test cannot name: {service} {operation}"),
        }
    }
    used
}

/// `Table` or `Table/index/<name>` for a DynamoDB request naming its table.
fn table(request: &serde_json::Value, resources: &Resources) -> String {
    let table = resources.logical(request["TableName"].as_str().unwrap_or_default());
    match request["IndexName"].as_str() {
        Some(index) => format!("{table}/index/{index}"),
        None => table,
    }
}

/// One `Allow` of a function's policies, its resource named as [`Permission`]s are.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub action: String,
    pub resource: String,
    /// The statement's `Condition`, as written.
    pub condition: Yaml,
}

impl Grant {
    /// Whether this grant allows `permission` (`*` in a resource matches anything after it).
    pub fn allows(&self, (action, resource): &Permission) -> bool {
        *action == self.action
            && match self.resource.strip_suffix('*') {
                Some(prefix) => resource.starts_with(prefix),
                None => *resource == self.resource,
            }
    }
}

/// The template, parsed.
pub fn template() -> Yaml {
    serde_norway::from_str(&template_text()).expect("template.yaml parses")
}

pub fn template_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).expect("template.yaml")
}

/// Every function in the template: its binary (the crate under `functions/`) → its logical id.
pub fn functions(template: &Yaml) -> BTreeMap<String, String> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    resources
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .map(|(id, resource)| {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("a binary");
            (binary.to_owned(), id.as_str().expect("an id").to_owned())
        })
        .collect()
}

/// What the function's `Policies` allow, one grant per action and resource.
pub fn grants(template: &Yaml, function: &str) -> Vec<Grant> {
    let policies = &template["Resources"][function]["Properties"]["Policies"];
    let mut grants = Vec::new();
    for policy in policies.as_sequence().into_iter().flatten() {
        for statement in policy["Statement"].as_sequence().expect("a policy document") {
            assert_eq!(statement["Effect"], "Allow", "{function}: only Allow statements");
            for action in one_or_many(&statement["Action"]) {
                for resource in one_or_many(&statement["Resource"]) {
                    grants.push(Grant {
                        action: action.as_str().expect("an action").to_owned(),
                        resource: resource_name(resource),
                        condition: statement["Condition"].clone(),
                    });
                }
            }
        }
    }
    grants
}

fn one_or_many(value: &Yaml) -> Vec<&Yaml> {
    match value.as_sequence() {
        Some(values) => values.iter().collect(),
        None => vec![value],
    }
}

/// A policy resource by logical id: `!GetAtt Table.Arn` → `Table`; `!Sub
/// arn:...:configuration-set/${ConfigurationSet}` → `configuration-set/ConfigurationSet`;
/// `!Sub ${Table.Arn}/index/*` → `Table/index/*`.
fn resource_name(resource: &Yaml) -> String {
    let Yaml::Tagged(tagged) = resource else {
        panic!("a resource of the stack's own, not {resource:?}");
    };
    let text = tagged.value.as_str().expect("a string under the tag");
    match tagged.tag.to_string().as_str() {
        "!GetAtt" => text.strip_suffix(".Arn").expect("an ARN").to_owned(),
        "!Ref" => text.to_owned(),
        "!Sub" => {
            let text = text.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "region");
            let text = text.replace("${AWS::AccountId}", "account");
            // arn:partition:service:region:account:resource → resource
            let resource = if text.starts_with("arn:") { text.splitn(6, ':').nth(5).expect("an ARN") } else { &text };
            resource.replace("${", "").replace(".Arn}", "").replace('}', "")
        }
        tag => panic!("a resource tagged {tag}"),
    }
}
