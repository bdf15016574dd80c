//! Types that exist only for the Musique document: the error body, and the upload form and
//! send body the handlers read part by part and field by field (to name what failed) rather
//! than deserialize.

use utoipa::ToSchema;

/// `{"error": {"code", "message", "type", "requestId", …}}` (Musique, and the control plane).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MusiqueError {
    error: MusiqueErrorDetail,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct MusiqueErrorDetail {
    code: String,
    message: String,
    #[schema(rename = "type")]
    kind: String,
    /// Equal to the `X-Request-Id` header (soundcheck's choice).
    request_id: String,
    /// 429 only: seconds until the window reopens.
    #[schema(required = false)]
    retry_after: Option<u64>,
    /// `external_id_not_found` only: the unknown External IDs.
    #[schema(required = false)]
    external_ids: Option<Vec<String>>,
    /// `insufficient_permissions` only.
    #[schema(required = false)]
    required_permission: Option<String>,
}

/// `POST /api/integration/auth`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct LegacyAuthBody {
    external_id: ExternalId,
    /// `{companyPrefix}_company_{secret}`.
    company_token: String,
}

/// The form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The MP3, at most 10 MB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Default: the file name without its extension.
    #[schema(max_length = 255)]
    name: Option<String>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    #[schema(max_length = 100)]
    category: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// A send. Unknown fields are ignored; `null` means the same as leaving a field out.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct SendBody {
    /// Exactly these stores; leave it out to broadcast to every store in the token's scope.
    /// Duplicates collapse.
    #[schema(min_items = 1, max_items = 1000, inline)]
    external_ids: Option<Vec<ExternalId>>,
    /// When to send, in the future and no later than 2499-12-31T23:59:59.999Z (soundcheck's
    /// last instant); absent means now.
    #[schema(format = DateTime)]
    schedule_at: Option<String>,
    #[schema(inline)]
    priority: Option<Priority>,
    #[schema(minimum = 1, maximum = 10)]
    repeat: Option<i64>,
    #[schema(minimum = 0, maximum = 100)]
    volume: Option<i64>,
}

/// An External ID: 1-128 printable characters.
#[derive(ToSchema)]
#[schema(value_type = String, min_length = 1, max_length = 128, pattern = r"^[^\u0000-\u001f\u007f]*\S[^\u0000-\u001f\u007f]*$")]
#[allow(dead_code)]
struct ExternalId(String);
