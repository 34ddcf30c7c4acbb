//! The admin API as a test drives it: the generated password, a login, and
//! one call with the session cookie and CSRF token.

use super::TestApp;
use serde_json::{json, Value};
use std::path::Path;

impl TestApp {
    /// Where the server wrote the admin password it generated on its first
    /// start (the default next to a SQLite file; `admin_password_file` on
    /// PostgreSQL).
    pub fn admin_password_file(&self) -> &Path {
        &self.admin_password_file
    }

    /// The admin password the server generated on its first start.
    pub fn admin_password(&self) -> String {
        std::fs::read_to_string(&self.admin_password_file)
            .expect("the generated admin password file")
            .trim()
            .to_owned()
    }

    /// Logs in as admin; returns the session cookie (`name=value`) and the CSRF token.
    pub async fn admin_login(&self) -> (String, String) {
        let response = self
            .client
            .post(self.url("/admin/api/login"))
            .json(&json!({ "username": "admin", "password": self.admin_password() }))
            .send()
            .await
            .expect("login sent");
        assert_eq!(response.status().as_u16(), 200, "admin login");
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let body: Value = response.json().await.expect("json");
        (cookie, body["csrfToken"].as_str().expect("csrf token").to_owned())
    }

    /// One admin API call with the session cookie and, when given, the CSRF header.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, self.url(&format!("/admin/api{path}")))
            .header("Cookie", cookie);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    /// Turns the maintenance switch on or off through the admin API (a
    /// session of its own) and checks that it took.
    pub async fn set_maintenance(&self, on: bool) {
        let (cookie, csrf) = self.admin_login().await;
        let body = json!({ "enabled": on });
        let response = self
            .admin("PUT", "/maintenance", &cookie, Some(&csrf), Some(&body))
            .await;
        let status = response.status().as_u16();
        let reply: Value = response.json().await.expect("json");
        assert_eq!((status, reply["enabled"].as_bool()), (200, Some(on)), "{reply}");
    }
}
