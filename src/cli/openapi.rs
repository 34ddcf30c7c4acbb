//! `wallet-service openapi`: prints the OpenAPI document of API v2, exactly
//! as the server serves it at `/api/v2/openapi.json`, so clients can be
//! generated without a running server (clients/typescript's `npm run
//! generate`).

use std::io::Write;
use std::process::ExitCode;

/// Writes the document and a final newline to stdout.
pub fn openapi() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(crate::api::v2::document().as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
