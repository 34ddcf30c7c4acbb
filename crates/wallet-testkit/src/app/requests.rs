//! What a test asks of the app in one line: credentials made the way the
//! CLI makes them, API v1 entries and totals, API v2 calls.

use super::{TestApp, TestAuthority};
use serde_json::{json, Value};
use wallet_core::text::{ProjectId, Text};

impl TestApp {
    pub async fn create_authority(&self, project: &str) -> TestAuthority {
        let created = self
            .credentials
            .create_authority(
                ProjectId::parse(project).expect("project id"),
                Text::parse("test", "name", 200).expect("name"),
                &self.address,
            )
            .await
            .expect("authority created");
        let id = created.config.authority_id.clone();
        let private_pem = created.config.private_key.clone();
        let token = super::sign_es256(&private_pem, &json!({ "sub": id }));
        TestAuthority {
            id,
            private_pem,
            token,
        }
    }

    pub async fn revoke(&self, authority: &TestAuthority) {
        let id = wallet_core::text::PublicId::parse(&authority.id).expect("id");
        self.credentials.revoke_authority(id).await.expect("revoked");
    }

    pub async fn post_entry(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/entry"))
            .header("Authorization", token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Posts an entry that must succeed and returns the entry.
    pub async fn entry(&self, token: &str, user: &str, amount: i64) -> Value {
        let response = self
            .post_entry(
                token,
                &json!({ "user_id": user, "amount": amount, "reason": "test", "item": null }),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200, "posting {amount} for {user}");
        let body: Value = response.json().await.expect("json");
        body["entry"].clone()
    }

    pub async fn get(&self, token: &str, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(self.url(path_and_query))
            .header("Authorization", token)
            .send()
            .await
            .expect("request sent")
    }

    /// The v1 total of one user, `None` when the user is omitted.
    pub async fn total(&self, token: &str, user: &str) -> Option<i64> {
        let response = self
            .get(token, &format!("/api/v1/wallet?user_ids={user}&authority_ids="))
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("json");
        body["wallets"]
            .as_array()
            .expect("wallets array")
            .iter()
            .find(|w| w["user_id"] == user)
            .map(|w| w["total"].as_i64().expect("integer total"))
    }

    /// Creates a project (with its default asset), as `wallet-service project create` does.
    pub async fn create_project(&self, id: &str) {
        self.ledger
            .create_project(
                ProjectId::parse(id).expect("project id"),
                Text::parse(id, "name", 200).expect("name"),
            )
            .await
            .expect("project created");
    }

    /// An opaque API v2 access key of `project`, as `wallet-service key create` prints it.
    pub async fn access_key(&self, project: &str) -> String {
        self.credentials
            .create_access_key(
                ProjectId::parse(project).expect("project id"),
                Text::parse("test", "name", 200).expect("name"),
            )
            .await
            .expect("access key created")
            .token
    }

    /// One API v2 call: `Authorization: Bearer <token>` when a token is given,
    /// a JSON body when one is given. Returns the status and the parsed body
    /// (`Value::Null` for an empty body).
    pub async fn v2(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, self.url(&format!("/api/v2{path}")));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        if text.is_empty() {
            return (status, Value::Null);
        }
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON ({status}): {text:?}"));
        (status, body)
    }
}

pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON ({status}): {text:?}"));
    (status, body)
}
