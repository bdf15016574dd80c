//! `x-basis`: what each operation's behaviour rests on, written beside its handler as an
//! OpenAPI extension and read back from the documents (the coverage list, the legacy paths'
//! journal notes), so that no second list of operations is kept by hand.

use serde_json::Value;
use utoipa::openapi::OpenApi;

/// The extension's name. One extension per operation: utoipa keeps extensions in a map
/// without a stable order, so everything an operation says of itself goes in this one.
pub const EXTENSION: &str = "x-basis";

/// Every operation of `document` in its order: method, path and its `x-basis`, if it has one.
pub fn operations(document: OpenApi) -> Vec<(&'static str, String, Option<Value>)> {
    let mut operations = Vec::new();
    for (path, item) in document.paths.paths {
        for (method, operation) in [
            ("GET", item.get),
            ("PUT", item.put),
            ("POST", item.post),
            ("DELETE", item.delete),
            ("PATCH", item.patch),
        ] {
            let Some(operation) = operation else { continue };
            let basis = operation
                .extensions
                .and_then(|mut extensions| extensions.remove(EXTENSION));
            operations.push((method, path.clone(), basis));
        }
    }
    operations
}
