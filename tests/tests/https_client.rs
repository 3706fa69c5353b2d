//! The functions' HTTPS client: it trusts the AWS roots, and the SDK clients of a function build
//! its TLS connector on their first request, not each at its construction.

use integration_tests::*;
use invitations::sdk_config::{https_client_trusting, AWS_ROOTS};

#[tokio::test]
async fn the_aws_trust_store_serves_a_request() {
    let roots = String::from_utf8_lossy(AWS_ROOTS);
    assert_eq!(roots.matches("-----BEGIN CERTIFICATE-----").count(), 5);
    // The emulator speaks plain HTTP, but the connector, trust store included, is built all the
    // same: a store that does not parse fails this request.
    let config = sdk_config_over(&dynamodb_endpoint(), https_client_trusting(AWS_ROOTS.to_vec()));
    let client = aws_sdk_dynamodb::Client::new(&config);
    client.list_tables().send().await.expect("a request over the AWS trust store");
}

#[tokio::test]
async fn no_tls_connector_is_built_before_the_first_request() {
    let broken = b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n".to_vec();
    let config = sdk_config_over(&dynamodb_endpoint(), https_client_trusting(broken));
    // With the SDK's own client, each of these constructions would build a connector (and panic
    // on this store); a function's init builds none.
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let _sqs = aws_sdk_sqs::Client::new(&config);
    // The first request builds it.
    let first_request = tokio::spawn(async move { dynamodb.list_tables().send().await });
    assert!(first_request.await.expect_err("the broken store is found").is_panic());
}
