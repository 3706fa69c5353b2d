//! Runs the README's curl walkthrough, verbatim, against the local server.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let start = readme.find("<!-- walkthrough:start -->").expect("walkthrough start marker");
    let end = readme.find("<!-- walkthrough:end -->").expect("walkthrough end marker");
    let block = &readme[start..end];
    let code = block.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    code.to_owned()
}

#[test]
fn the_readme_walkthrough_works_against_make_run() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let workdir = std::env::temp_dir().join(format!("walkthrough-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&workdir).unwrap();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_local-server"))
            .env("PORT", port.to_string())
            .env_remove("PROJECT_INVITATION_URL")
            .env_remove("API_BASE_URL")
            .current_dir(&workdir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "the local server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let script = walkthrough().replace("http://127.0.0.1:3000", &format!("http://127.0.0.1:{port}"));
    assert!(script.contains("/local/signup") && script.contains("/members"));
    let output =
        Command::new("bash").arg("-euo").arg("pipefail").arg("-c").arg(&script).current_dir(&workdir).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "walkthrough failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains(r#"{"email":"Jane.Doe@example.com","status":1,"delivery_status":"sent","send_count":1}"#),
        "{stdout}"
    );
    assert!(stdout.contains(r#"{"email":"jane.doe@example.com","role":"editor"}"#), "{stdout}");
    assert!(stdout.contains(r#"{"email":"owner@example.com","role":"owner"}"#), "{stdout}");
    assert!(stdout.contains(r#"{"email":"jane.doe@example.com","slack_status":"invited"}"#), "{stdout}");
    let bulk = r#"{"created":3,"failed":0,"rows":[{"email":"ana@example.com","status":"created"},{"email":"bo@example.com","status":"created"},{"email":"cy@example.com","status":"created"}]}"#;
    assert!(stdout.contains(bulk), "{stdout}");
    std::thread::sleep(Duration::from_millis(500));
    let files: Vec<_> = std::fs::read_dir(workdir.join("outbox")).unwrap().map(|f| f.unwrap().path()).collect();
    let emails: Vec<_> = files.iter().filter(|path| path.extension().is_some_and(|e| e == "eml")).collect();
    let slack: Vec<_> = files
        .iter()
        .filter(|path| path.file_name().unwrap().to_string_lossy().starts_with("slack-"))
        .map(|path| serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(path).unwrap()).unwrap())
        .collect();
    assert_eq!(slack.len(), 1, "Jane's Slack invitation, in the outbox: {slack:?}");
    assert_eq!(
        (slack[0]["method"].as_str(), slack[0]["email"].as_str()),
        (Some("admin.users.invite"), Some("jane.doe@example.com"))
    );
    assert_eq!(slack[0]["channel_ids"], serde_json::json!(["C0SURVEY1"]));
    assert_eq!(emails.len(), 4, "Jane's email and the bulk's three");
    let noted =
        emails.iter().filter(|path| std::fs::read_to_string(path).unwrap().contains("Welcome to the field team!"));
    assert_eq!(noted.count(), 2, "the note, in the two emails that have one");
    // The events went out on the (local) bus, in the order they were committed.
    let events = std::fs::read_to_string(workdir.join("outbox/events.jsonl")).unwrap();
    let types: Vec<String> = events
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["detail-type"].as_str().unwrap().to_owned()
        })
        .collect();
    let project = ["project.created", "member.added", "integration.slack.updated", "invitation.created"];
    assert_eq!(types[..4], project, "{types:?}");
    let invited =
        types.iter().position(|t| t == "member.slack.invited").expect("Jane's Slack invitation was published");
    let accepted = types.iter().position(|t| t == "invitation.accepted").expect("the acceptance was published");
    let sent = types.iter().position(|t| t == "invitation.email.sent").expect("the send was published");
    assert!(sent < accepted && accepted < invited, "{types:?}");
    let _ = std::fs::remove_dir_all(&workdir);
}
