//! `/openapi/*.json` and `/docs`: served as committed, the page needs nothing from outside,
//! the wrapped envelope's documents describe what it serves, and the examples "Try it out"
//! sends succeed on the default sandbox.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const DOCUMENTS: [&str; 4] = [
    "musique.json",
    "musique-legacy.json",
    "musicark.json",
    "control.json",
];
const KEY: &str = "msk_prod_1234567890abcdef";

fn committed(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("openapi")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("committed")).expect("json")
}

async fn served(app: &TestApp, name: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/openapi/{name}")))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "{name}");
    response.json().await.expect("json")
}

#[tokio::test]
async fn the_served_documents_are_the_committed_ones() {
    let app = TestApp::spawn().await;
    for name in DOCUMENTS {
        assert_eq!(served(&app, name).await, committed(name), "{name}");
    }
}

#[tokio::test]
async fn the_docs_page_loads_its_scripts_and_styles_from_soundcheck_itself() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/docs/")).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    for attribute in ["src=\"http", "href=\"http", "src='http", "href='http", "//cdn"] {
        assert!(!html.contains(attribute), "the page refers outside: {attribute}");
    }
    let config = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("js");
    for document in [
        "/openapi/musique.json",
        "/openapi/musique-legacy.json",
        "/openapi/musicark.json",
        "/openapi/control.json",
    ] {
        assert!(
            config.contains(document),
            "{document} missing from the docs page: {config}"
        );
    }
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(bundle.status(), 200, "Swagger UI's script is served locally");
    // The Authorize dialogs come filled with the default sandbox's header keys.
    for key in [KEY, "mk_live_enterprise0000000000000000000000"] {
        assert!(config.contains(key), "{key} is not offered: {config}");
    }
    assert!(config.contains("SoundcheckDefaultKeys"), "{config}");
}

#[tokio::test]
async fn every_covered_operation_is_in_its_document() {
    let app = TestApp::spawn().await;
    let (_, coverage) = app.control_json(reqwest::Method::GET, "/coverage", None).await;
    let doc = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("openapi")
            .join(name);
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(path).expect("doc")).expect("json")
    };
    let (musique, legacy, musicark) = (
        doc("musique.json"),
        doc("musique-legacy.json"),
        doc("musicark.json"),
    );
    for op in coverage["operations"].as_array().expect("operations") {
        let path = op["path"].as_str().expect("path");
        let method = op["method"].as_str().expect("method").to_ascii_lowercase();
        let (document, relative) = match op["api"].as_str() {
            Some("musicark") => (&musicark, path.trim_start_matches("/api/v1").to_owned()),
            _ if path.starts_with("/api/v1/integration") => {
                let rest = path.trim_start_matches("/api/v1/integration");
                (
                    &musique,
                    if rest.is_empty() {
                        "/".to_owned()
                    } else {
                        rest.to_owned()
                    },
                )
            }
            _ => (&legacy, path.to_owned()),
        };
        assert!(
            document["paths"][&relative][&method].is_object(),
            "{method} {path} ({relative}) is not documented"
        );
    }
}

/// The legacy paths and the audio files are in a document of their own whose server is the
/// root, and nowhere else: a generator calls each at its document's server.
#[tokio::test]
async fn the_legacy_document_serves_the_root_paths_and_v1_has_none_of_them() {
    let app = TestApp::spawn().await;
    let (v1, legacy) = (
        served(&app, "musique.json").await,
        served(&app, "musique-legacy.json").await,
    );
    assert_eq!(legacy["servers"][0]["url"], "/");
    assert_eq!(v1["servers"][0]["url"], "/api/v1/integration");
    let paths = |d: &Value| {
        d["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(
        paths(&legacy)
            .iter()
            .all(|p| p.starts_with("/api/") || p.starts_with("/media/"))
    );
    assert!(paths(&legacy).contains(&"/media/audio/{file}".to_owned()));
    assert!(
        paths(&v1)
            .iter()
            .all(|p| !p.starts_with("/api/") && !p.starts_with("/media/"))
    );
    // Called at the legacy document's server, a legacy operation answers.
    let response = app
        .client
        .get(app.url("/api/integration/health"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
}

/// Under `--envelope wrapped` the served Musique documents describe `{data, timestamp}`, and
/// a response has exactly the fields the document requires.
#[tokio::test]
async fn the_wrapped_envelope_serves_wrapped_documents() {
    let app = TestApp::spawn_with(|c| c.envelope = soundcheck::config::Envelope::Wrapped).await;
    let doc = served(&app, "musique.json").await;
    let schema = &doc["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(schema["required"], json!(["data", "timestamp"]), "{schema}");
    assert_eq!(
        schema["properties"]["data"]["$ref"],
        "#/components/schemas/Health"
    );
    let (status, body) = app.get_json("/health", KEY).await;
    assert_eq!(status, 200);
    assert!(
        body["data"]["status"].is_string() && body["timestamp"].is_string(),
        "{body}"
    );
    let legacy = served(&app, "musique-legacy.json").await;
    let list =
        &legacy["paths"]["/api/audio"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        list["properties"]["data"]["$ref"],
        "#/components/schemas/AudioList"
    );
    // The token issuer's answer is wrapped too, in the document and served.
    let issue = &legacy["paths"]["/api/integration/auth"]["post"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        issue["properties"]["data"]["$ref"], "#/components/schemas/IssuedToken",
        "{issue}"
    );
    let issued: Value = app
        .client
        .post(app.url("/api/integration/auth"))
        .json(&json!({"companyToken": "msk_company_1234567890abcdef", "externalId": "store_001"}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(
        issued["data"]["token"].is_string() && issued["timestamp"].is_string(),
        "{issued}"
    );
    // The documents of the default envelope are not these.
    assert_ne!(doc, committed("musique.json"));
}

/// "Try it out" on the default sandbox: every Musique operation's example body, sent as it
/// is (an audio id in the path where one is needed), succeeds.
#[tokio::test]
async fn every_musique_example_body_succeeds_on_the_default_sandbox() {
    let app = TestApp::spawn().await;
    let audio = app.upload_tone(KEY).await;
    let mut tried = 0;
    for name in ["musique.json", "musique-legacy.json"] {
        let doc = committed(name);
        let server = doc["servers"][0]["url"]
            .as_str()
            .expect("server")
            .trim_end_matches('/')
            .to_owned();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let Some(example) = op.pointer("/requestBody/content/application~1json/example") else {
                    continue;
                };
                let url = format!(
                    "{server}{}",
                    path.replace("{id}", &audio).replace("{audioId}", &audio)
                );
                let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
                let response = app
                    .client
                    .request(method.clone(), app.url(&url))
                    .header("X-API-Key", KEY)
                    .json(example)
                    .send()
                    .await
                    .expect("request");
                let status = response.status();
                let body = response.text().await.expect("body");
                assert!(
                    status.is_success(),
                    "{method} {url} with {example}: {status} {body}"
                );
                tried += 1;
            }
        }
    }
    assert_eq!(tried, 3, "the two sends and the legacy token issuer");
}

/// The parameter examples point at what the default sandbox has.
#[tokio::test]
async fn the_parameter_examples_name_what_the_default_sandbox_has() {
    let app = TestApp::spawn().await;
    let doc = committed("musicark.json");
    let slug = doc["paths"]["/songs/{id}"]["get"]["parameters"][0]["example"]
        .as_str()
        .expect("an example song");
    let response = app
        .client
        .get(app.url(&format!("/api/v1/songs/{slug}")))
        .bearer_auth("mk_live_enterprise0000000000000000000000")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "{slug}");
}
