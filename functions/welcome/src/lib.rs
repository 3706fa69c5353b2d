//! The page Cognito's managed login sends an invitee back to once they have signed up and
//! verified their address (the app client's callback URL, served by a function URL): the stack
//! has no app of its own to land on. The sign-up trigger has accepted their invitations by then.
//! It reads nothing: Cognito's authorization code in the query is not needed to say so.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use lambda_http::{Body, Request, Response};

pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>You're in</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">
<h1>You're in</h1>
<p>Your account is ready and your email address is verified. Every pending invitation sent to
that address has been accepted: the projects you were invited to are yours to open.</p>
<p>You can close this page.</p>
</body>
</html>
"#;

pub async fn handle(_request: Request) -> Result<Response<Body>, lambda_http::Error> {
    let response = Response::builder()
        .status(200)
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .header(CACHE_CONTROL, "no-store")
        // A static page: no script, no frame, nothing loaded from elsewhere.
        .header(CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
        .body(Body::from(PAGE))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_page_whatever_cognito_appends() {
        let request = lambda_http::http::Request::builder()
            .uri("https://example.lambda-url.us-east-1.on.aws/?code=abc")
            .body(Body::Empty)
            .unwrap();
        let response = handle(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let Body::Text(page) = response.body() else { panic!("a text body") };
        assert!(page.contains("invitation") && !page.contains("<script"));
    }
}
