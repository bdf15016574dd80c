//! `/openapi/*.json` and `/docs`: served as committed, and the page needs nothing from outside.

use crate::helpers::*;

#[tokio::test]
async fn the_served_documents_are_the_committed_ones() {
    let app = TestApp::spawn().await;
    for name in ["musique.json", "musicark.json", "control.json"] {
        let response = app
            .client
            .get(app.url(&format!("/openapi/{name}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{name}");
        let served: serde_json::Value = response.json().await.expect("json");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("openapi")
            .join(name);
        let committed: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("committed")).expect("json");
        assert_eq!(served, committed, "{name}");
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
    let (musique, musicark) = (doc("musique.json"), doc("musicark.json"));
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
            _ => (&musique, path.to_owned()),
        };
        assert!(
            document["paths"][&relative][&method].is_object(),
            "{method} {path} ({relative}) is not documented"
        );
    }
}
