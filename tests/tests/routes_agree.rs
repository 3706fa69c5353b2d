//! The OpenAPI document, the function crates, the local router and template.yaml name the same
//! routes, every function crate is deployed by template.yaml, and every bootstrap is linked the
//! way the benchmark measured it (the benchmark prints how each binary it ran is linked).

use serde_norway::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn yaml(file: &str) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(root().join(file)).unwrap()).unwrap()
}

fn openapi_routes() -> BTreeSet<String> {
    let doc = yaml("openapi.yaml");
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "delete", "patch"].contains(&method) {
                routes.insert(format!("{} {}", method.to_uppercase(), path.as_str().unwrap()));
            }
        }
    }
    routes
}

/// (route, binary) for every HttpApi event, and every binary, in template.yaml.
fn template() -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let doc = yaml("template.yaml");
    let mut routes = BTreeSet::new();
    let mut binaries = BTreeSet::new();
    for (_, resource) in doc["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        assert_eq!(resource["Metadata"]["BuildMethod"], "rust-cargolambda");
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned();
        binaries.insert(binary.clone());
        if let Some(events) = resource["Properties"]["Events"].as_mapping() {
            for (_, event) in events {
                if event["Type"] == "HttpApi" {
                    let p = &event["Properties"];
                    let route = format!("{} {}", p["Method"].as_str().unwrap(), p["Path"].as_str().unwrap());
                    routes.insert((route, binary.clone()));
                }
            }
        }
    }
    (routes, binaries)
}

fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn openapi_router_and_template_agree() {
    let router: BTreeSet<String> = local_server::routes().iter().map(|r| r.key.to_owned()).collect();
    let (template_routes, _) = template();
    let template_keys: BTreeSet<String> = template_routes.iter().map(|(route, _)| route.clone()).collect();
    assert_eq!(openapi_routes(), router, "openapi.yaml vs the function crates' ROUTEs");
    assert_eq!(template_keys, router, "template.yaml vs the function crates' ROUTEs");
    assert_eq!(router.len(), 22);
}

#[test]
fn every_function_crate_is_deployed_and_routes_to_its_own_binary() {
    let (routes, binaries) = template();
    assert_eq!(binaries, function_crates(), "template.yaml binaries vs functions/");
    for (route, binary) in &routes {
        // The crate's ROUTE is declared in that crate's own source.
        let source = std::fs::read_to_string(root().join("functions").join(binary).join("src/lib.rs")).unwrap();
        assert!(source.contains(&format!("pub const ROUTE: &str = \"{route}\";")), "{binary} does not serve {route}");
    }
    assert_eq!(routes.len(), local_server::routes().len(), "one function per route");
}

#[test]
fn every_bootstrap_is_linked_by_the_bootstrap_build_script() {
    for name in function_crates() {
        let manifest = std::fs::read_to_string(root().join("functions").join(&name).join("Cargo.toml")).unwrap();
        assert!(
            manifest.lines().any(|line| line.trim() == r#"build = "../../infra/bootstrap-link.rs""#),
            "{name} does not use infra/bootstrap-link.rs"
        );
    }
}

#[test]
fn no_api_function_may_send_to_a_queue_and_the_table_streams_to_the_pipes() {
    let doc = yaml("template.yaml");
    for (id, resource) in doc["Resources"].as_mapping().unwrap() {
        let has_api_route = resource["Properties"]["Events"]
            .as_mapping()
            .is_some_and(|events| events.values().any(|e| e["Type"] == "HttpApi"));
        if !has_api_route {
            continue;
        }
        let policies = serde_norway::to_string(&resource["Properties"]["Policies"]).unwrap();
        assert!(!policies.contains("sqs:"), "{id:?} may call SQS: the table's stream feeds the queues");
        assert!(resource["Properties"]["Environment"]["Variables"]["EMAIL_QUEUE_URL"].is_null(), "{id:?}");
    }
    assert_eq!(doc["Resources"]["Table"]["Properties"]["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    let pipes = integration_tests::template_pipes();
    let names: BTreeSet<&str> = pipes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["EmailPipe", "EventsPipe"]));
    for pipe in &pipes {
        let source = &doc["Resources"][pipe.name.as_str()]["Properties"];
        assert_eq!(serde_norway::to_string(&source["Source"]).unwrap().trim(), "!GetAtt Table.StreamArn");
        let parameters = &source["SourceParameters"]["DynamoDBStreamParameters"];
        let dlq = serde_norway::to_string(&parameters["DeadLetterConfig"]["Arn"]).unwrap();
        assert_eq!(dlq.trim(), "!GetAtt PipesDeadLetterQueue.Arn", "{} has a DLQ", pipe.name);
        assert!(parameters["MaximumRetryAttempts"].as_u64().is_some(), "{} retries", pipe.name);
    }
}

#[test]
fn a_dead_sender_s_claim_expires_before_its_message_comes_back() {
    let doc = yaml("template.yaml");
    let queue = &doc["Resources"]["EmailQueue"]["Properties"];
    let visibility = queue["VisibilityTimeout"].as_u64().unwrap();
    assert_eq!(
        queue["RedrivePolicy"]["maxReceiveCount"].as_u64(),
        Some(u64::from(send_invitation_email::MAX_RECEIVES))
    );
    let sender = &doc["Resources"]["SendInvitationEmailFunction"]["Properties"];
    let lease = sender["Environment"]["Variables"]["INVITATION_SEND_LEASE"].as_str().unwrap();
    let lease = invitations::domain::settings::parse_duration(lease).unwrap().whole_seconds() as u64;
    let timeout = sender["Timeout"].as_u64().unwrap();
    assert!(timeout < lease, "a live sender's claim outlasts it: {timeout} s < {lease} s");
    assert!(lease < visibility, "a dead sender's claim is gone when SQS redelivers: {lease} s < {visibility} s");
}

#[test]
fn the_api_is_throttled_and_opens_to_browsers_only_from_the_origins_given() {
    let doc = yaml("template.yaml");
    assert_eq!(doc["Parameters"]["CorsAllowedOrigins"]["Default"], "", "no origin unless the deployer names one");
    let api = &doc["Resources"]["HttpApi"]["Properties"];
    let cors = serde_norway::to_string(&api["CorsConfiguration"]).unwrap();
    for header in ["authorization", "content-type", "idempotency-key", "if-match", "link", "retry-after"] {
        assert!(cors.contains(header), "CORS names {header}: {cors}");
    }
    assert!(cors.contains("HasCorsOrigins") && cors.contains("CorsAllowedOrigins"), "{cors}");
    let throttling = serde_norway::to_string(&api["DefaultRouteSettings"]).unwrap();
    assert!(throttling.contains("ApiThrottlingRateLimit") && throttling.contains("ApiThrottlingBurstLimit"));
    for quota in [
        "InvitationsPerProjectPerDay",
        "InvitationsPerInviterPerDay",
        "PendingInvitationsPerAddress",
        "ProjectsPerUser",
    ] {
        assert!(doc["Parameters"][quota]["Default"].as_u64().is_some(), "{quota} is a parameter with a default");
    }
}

#[test]
fn every_dead_letter_queue_has_an_alarm_and_what_holds_memberships_is_kept() {
    let doc = yaml("template.yaml");
    let resources = doc["Resources"].as_mapping().unwrap();
    let text = |value: &Value| serde_norway::to_string(value).unwrap();
    let dlqs: Vec<String> = resources
        .iter()
        .filter(|(id, r)| r["Type"] == "AWS::SQS::Queue" && id.as_str().unwrap().ends_with("DeadLetterQueue"))
        .map(|(id, _)| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dlqs.len(), 5, "{dlqs:?}");
    for dlq in &dlqs {
        let alarmed = resources.values().any(|r| {
            r["Type"] == "AWS::CloudWatch::Alarm"
                && text(&r["Properties"]["Dimensions"]).contains(&format!("{dlq}.QueueName"))
                && text(&r["Properties"]["AlarmActions"]).contains("AlarmTopic")
        });
        assert!(alarmed, "{dlq} has an alarm to the topic");
    }
    for metric in ["Reputation.BounceRate", "Reputation.ComplaintRate", "5xx"] {
        assert!(resources.values().any(|r| r["Properties"]["MetricName"] == metric), "an alarm on {metric}");
    }
    assert_eq!(
        text(&doc["Resources"]["FunctionLogs"]["Properties"]["RetentionInDays"]).trim(),
        "!Ref LogRetentionDays"
    );
    assert_eq!(doc["Resources"]["UserPool"]["DeletionPolicy"], "Retain");
    assert_eq!(doc["Resources"]["UserPool"]["UpdateReplacePolicy"], "Retain");
    assert_eq!(doc["Resources"]["UserPool"]["Properties"]["DeletionProtection"], "ACTIVE");
    assert_eq!(doc["Resources"]["Table"]["Properties"]["DeletionProtectionEnabled"], true);
    let sender = text(&doc["Resources"]["SendInvitationEmailFunction"]["Properties"]["Policies"]);
    assert!(sender.contains("ses:FromAddress"), "ses:SendEmail is held to the stack's sender");
}

/// The `!Sub` string under a tag, or the tagged value itself.
fn sub_text(value: &Value) -> String {
    match value {
        Value::Tagged(tagged) => tagged.value.as_str().unwrap().to_owned(),
        other => panic!("a tagged value, not {other:?}"),
    }
}

#[test]
fn without_an_invitation_url_the_link_opens_the_stacks_own_sign_up_page() {
    let doc = yaml("template.yaml");
    assert_eq!(doc["Parameters"]["InvitationUrl"]["Default"], "", "InvitationUrl is optional");
    let env = &doc["Globals"]["Function"]["Environment"]["Variables"];
    let Value::Tagged(link) = &env["PROJECT_INVITATION_URL"] else { panic!("the link depends on InvitationUrl") };
    let [condition, managed, given] = link.value.as_sequence().unwrap().as_slice() else { panic!("an !If") };
    assert_eq!((link.tag.to_string().as_str(), condition.as_str()), ("!If", Some("UseManagedLogin")));
    assert_eq!(serde_norway::to_string(given).unwrap().trim(), "!Ref InvitationUrl");
    assert_eq!(
        serde_norway::to_string(&env["INVITATION_URL_LOGIN_HINT"]).unwrap().trim(),
        "!If\n- UseManagedLogin\n- 'true'\n- 'false'"
    );
    let sign_up = sub_text(managed);
    assert_eq!(sub_text(&doc["Outputs"]["SignUpUrl"]["Value"]), sign_up, "the SignUpUrl output is the link");

    // The link as a deployed function builds it, for one invitation.
    let welcome = "https://abc.lambda-url.eu-west-1.on.aws/";
    let url = sign_up
        .replace("${UserPoolDomain}", "invitations-1f2e")
        .replace("${AWS::Region}", "eu-west-1")
        .replace("${UserPoolClient}", "client42")
        .replace("${WelcomeFunctionUrl.FunctionUrl}", welcome);
    assert!(!url.contains("${"), "{url}");
    let settings = invitations::Settings::from_lookup(|name| match name {
        "PROJECT_INVITATION_URL" => Some(url.clone()),
        "INVITATION_URL_LOGIN_HINT" => Some("true".to_owned()),
        _ => None,
    })
    .unwrap();
    let invited = integration_tests::new_invitation("Jane.Doe+survey@example.com", "editor");
    let inviter = integration_tests::user_with_email("owner@example.com").as_inviter();
    let invitation = invitations::domain::Invitation::new(
        integration_tests::project_id("p1"),
        &invited,
        &inviter,
        integration_tests::start_time(),
        &settings.policy,
    );
    let link = settings.link_to(&invitation);
    let (page, query) = link.split_once('?').unwrap();
    assert_eq!(page, "https://invitations-1f2e.auth.eu-west-1.amazoncognito.com/signup");
    let params: std::collections::BTreeMap<String, String> =
        form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    assert_eq!(params["client_id"], "client42");
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["redirect_uri"], welcome);
    assert_eq!(params["login_hint"], "Jane.Doe+survey@example.com", "the invited address, filled in");
    assert_eq!(params["invitation_id"], invitation.id.to_string());
    assert_eq!(params["project_id"], "p1");

    // The app client returns to the welcome page; the pool's domain and the page exist only then.
    let client = &doc["Resources"]["UserPoolClient"]["Properties"];
    assert!(serde_norway::to_string(&client["CallbackURLs"]).unwrap().contains("WelcomeFunctionUrl.FunctionUrl"));
    assert!(serde_norway::to_string(&client["AllowedOAuthFlows"]).unwrap().contains("code"));
    for id in ["UserPoolDomain", "ManagedLoginBranding", "WelcomeFunction"] {
        assert_eq!(doc["Resources"][id]["Condition"], "UseManagedLogin", "{id}");
    }
    assert_eq!(doc["Resources"]["WelcomeFunction"]["Properties"]["FunctionUrlConfig"]["AuthType"], "NONE");
    // The pool's trigger and the page itself cannot be handed the link (circular dependencies).
    for id in ["PostConfirmationFunction", "WelcomeFunction"] {
        assert_eq!(
            doc["Resources"][id]["Properties"]["Environment"]["Variables"]["PROJECT_INVITATION_URL"], "",
            "{id}"
        );
    }
}
