//! Query parameters: every refusal is a 400 whose message names the parameter and what it
//! allows; the edges of each range are accepted.

use super::*;

const TEMPO_FEELS: &str =
    "stillness, drift, sway, lean, groove, bounce, stride, drive, surge, rush, blitz, fury";
const ENERGY_SHAPES: &str = "steady, build, rise, peak, wave, cascade, bloom, burst";

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter_and_what_it_allows() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    // (path, what the message must contain, why the request is refused)
    let cases: &[(&str, &[&str], &str)] = &[
        ("/songs?limit=0", &["`limit`", "at least 1"], "a limit below 1"),
        ("/songs?limit=-1", &["`limit`", "at least 1"], "a negative limit"),
        ("/songs?limit=abc", &["`limit`"], "a limit that is not a number"),
        ("/songs?limit=2.5", &["`limit`"], "a limit that is not an integer"),
        (
            "/songs?offset=-1",
            &["`offset`", "at least 0"],
            "a negative offset",
        ),
        ("/songs?offset=x", &["`offset`"], "an offset that is not a number"),
        (
            "/songs?sort=rating",
            &["`sort`", "published_at, title, artist"],
            "an unknown sort, answered with the vocabulary",
        ),
        ("/songs?sort=Title", &["`sort`"], "sort words are exact"),
        (
            "/songs?tempo_feel=slow",
            &["`tempo_feel`", TEMPO_FEELS],
            "an unknown tempo_feel",
        ),
        (
            "/songs?energy_shape=flat",
            &["`energy_shape`", ENERGY_SHAPES],
            "an unknown energy_shape",
        ),
        ("/search/text", &["`q`"], "q missing"),
        ("/search/text?q=", &["`q`"], "q empty"),
        ("/search/text?q=%20%20", &["`q`"], "q blank"),
        (
            "/search/text?q=love&max_results=0",
            &["`max_results`", "at least 1"],
            "max_results 0",
        ),
        (
            "/search/text?q=love&max_results=many",
            &["`max_results`"],
            "max_results not a number",
        ),
        ("/search/color", &["`h`", "0 to 360"], "h missing"),
        ("/search/color?h=", &["`h`", "0 to 360"], "h empty"),
        ("/search/color?h=361", &["`h`", "0 to 360"], "h above 360"),
        ("/search/color?h=-1", &["`h`", "0 to 360"], "h below 0"),
        ("/search/color?h=red", &["`h`", "0 to 360"], "h not a number"),
        ("/search/color?h=NaN", &["`h`"], "h not a finite number"),
        ("/search/color?h=10&l=1.01", &["`l`", "0 to 1"], "l above 1"),
        ("/search/color?h=10&l=-0.1", &["`l`", "0 to 1"], "l below 0"),
        ("/search/color?h=10&c=0.41", &["`c`", "0 to 0.4"], "c above 0.4"),
        ("/search/color?h=10&c=-0.01", &["`c`", "0 to 0.4"], "c below 0"),
        (
            "/search/color?h=10&max_distance=0",
            &["`max_distance`", "greater than 0"],
            "max_distance 0",
        ),
        (
            "/search/color?h=10&max_distance=-5",
            &["`max_distance`", "greater than 0"],
            "max_distance negative",
        ),
        (
            "/search/color?h=10&max_results=0",
            &["`max_results`", "at least 1"],
            "max_results 0",
        ),
        (
            "/search/emotional?min_valence=0",
            &["`min_valence`", "1 to 1000"],
            "a bound below 1",
        ),
        (
            "/search/emotional?max_arousal=1001",
            &["`max_arousal`", "1 to 1000"],
            "a bound above 1000",
        ),
        (
            "/search/emotional?min_nostalgia=500.5",
            &["`min_nostalgia`", "1 to 1000"],
            "a bound not an integer",
        ),
        (
            "/search/emotional?max_mystery=high",
            &["`max_mystery`", "1 to 1000"],
            "a bound not a number",
        ),
        (
            "/search/emotional?min_inspirational=0",
            &["`min_inspirational`", "1 to 1000"],
            "the inspirational bound",
        ),
        (
            "/search/emotional?min_triumph=600&max_triumph=500",
            &["`min_triumph`", "`max_triumph`"],
            "min above max",
        ),
        (
            "/search/emotional?max_results=-1",
            &["`max_results`"],
            "max_results negative",
        ),
    ];
    for (path, fragments, why) in cases {
        let (status, body) = app.ark_json(path, PRO).await;
        assert_eq!(status, 400, "{why} ({path}): {body}");
        let message = assert_ark_error(&body, "bad_request");
        for fragment in *fragments {
            assert!(
                message.contains(fragment),
                "{why} ({path}): {message:?} lacks {fragment:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_edges_of_every_range_are_accepted() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let paths = [
        "/songs?limit=1",
        "/songs?limit=100",
        "/songs?limit=99999999999999999999999",
        "/songs?offset=0",
        "/songs?offset=99999",
        "/search/text?q=a&max_results=1",
        "/search/text?q=a&max_results=100",
        "/search/color?h=0",
        "/search/color?h=360",
        "/search/color?h=120.5&l=0&c=0",
        "/search/color?h=120&l=1&c=0.4",
        "/search/color?h=120&max_distance=0.001",
        "/search/emotional?min_valence=1&max_valence=1",
        "/search/emotional?min_arousal=1000&max_arousal=1000",
        "/search/emotional?min_mystery=500&max_mystery=500",
    ];
    for path in paths {
        let (status, body) = app.ark_json(path, PRO).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_envelope(&body);
    }
}
