"""The one scenario every generated client runs, and Prism watches: every operation of the served
documents, happy paths and the error paths a client must handle (401, 404, 400, 429, and a 503
injected through the control plane), on the default sandbox and one throwaway tenant.

Each step names an operation by its operationId only: the runners find the served document that
holds it, and call it at that document's own server (`servers[0].url`), as a generated client
does. Values may refer to earlier answers: "${name.path.to.field}" (a whole-string reference
keeps the value's type; inside a longer string it is formatted in).

Read by run_python.py (openapi-python-client) and gen_ts.py (openapi-fetch, @hey-api/openapi-ts).
"""

MUSIQUE_KEY = "msk_prod_1234567890abcdef"
COMPANY_TOKEN = "msk_company_1234567890abcdef"
MUSICARK_KEY = "mk_live_enterprise0000000000000000000000"
MP3 = "tests/fixtures/tone_1s.mp3"

# How each API authenticates; `key` of a step is the credential.
AUTH = {"musique": "X-API-Key", "musicark": "bearer", "control": None}


def step(name, op, api, expect=200, path=None, query=None, headers=None, body=None, form=None,
         key="default", binary=False, prism=True, sse=False):
    if key == "default":
        key = {"musique": MUSIQUE_KEY, "musicark": MUSICARK_KEY, "control": None}[api]
    return {
        "name": name, "op": op, "api": api, "expect": expect, "path": path or {},
        "query": query or {}, "headers": headers or {}, "body": body, "form": form, "key": key,
        "binary": binary,
        # Prism re-encodes a multipart body it forwards and the MP3 arrives broken (a Prism
        # limitation, not the document's): those steps go to the server directly.
        "prism": prism,
        # A text/event-stream operation: a client's SSE interface, where it has one.
        "sse": sse,
    }


M, A, C = "musique", "musicark", "control"
T = "${t429.id}"  # the throwaway tenant

STEPS = [
    # --- control plane, first part: a tenant with tiny limits, for the 429s
    step("ctl_health", "controlHealth", C),
    step("coverage", "coverage", C),
    step("tenants", "listTenants", C, query={"limit": 10}),
    step("t429", "createTenant", C, expect=201, body={
        "name": "tooling-check",
        # A frozen clock in mid-minute and mid-month: the 429s below cannot miss by a window's turn.
        "clock": {"at": "2030-01-15T12:00:10Z", "frozen": True},
        "musique": {"stores": 2, "tokens": [{"limits": {"perMinute": 1, "perHour": 10, "perDay": 10}}]},
        "musicark": {"keys": [{"tier": "free", "monthlyLimit": 1}]},
    }),
    step("tenant", "getTenant", C, path={"tenant": T}),
    step("clock", "getClock", C, path={"tenant": T}),
    step("clock_move", "setClock", C, path={"tenant": T}, body={"advance": "1s"}),
    step("clock_bad", "setClock", C, expect=400, path={"tenant": T}, body={"advance": "soon"}),
    step("tenant_missing", "getTenant", C, expect=404, path={"tenant": "ten_doesnotexist"}),

    # --- Musique V1
    step("info", "apiInfo", M),
    step("health", "health", M),
    step("health_401", "health", M, expect=401, key="msk_prod_wrongwrongwrong00"),
    step("fault_503", "createFault", C, expect=201, path={"tenant": "default"},
         body={"path": "/api/v1/integration/health", "status": 503, "times": 1}),
    step("health_503", "health", M, expect=503),
    step("health_429_first", "health", M, key="${t429.musique.tokens.0.token}"),
    step("health_429", "health", M, expect=429, key="${t429.musique.tokens.0.token}"),
    step("list", "listAudio", M, query={"page": 1, "limit": 5}),
    step("up", "uploadAudio", M, form={"file": MP3, "name": "Tooling check"}, prism=False),
    step("get", "getAudio", M, path={"id": "${up.id}"}),
    step("get_404", "getAudio", M, expect=404, path={"id": "aud_doesnotexist00"}),
    step("send", "sendAudio", M, path={"id": "${up.id}"}, body={"externalIds": ["store_001"]}),
    step("send_400", "sendAudio", M, expect=400, path={"id": "${up.id}"},
         body={"externalIds": ["store_001"], "scheduleAt": "2000-01-01T00:00:00Z"}),
    step("media", "getAudioFile", M, path={"file": "${up.id}.mp3"}, key=None, binary=True),
    step("media_range", "getAudioFile", M, expect=206, path={"file": "${up.id}.mp3"},
         headers={"Range": "bytes=0-99"}, key=None, binary=True),
    step("media_404", "getAudioFile", M, expect=404, path={"file": "aud_doesnotexist00.mp3"},
         key=None),

    # --- Musique legacy paths
    step("l_info", "legacyInfo", M),
    step("l_health", "legacyHealth", M),
    step("l_limits", "legacyLimits", M),
    step("l_test", "legacyTestToken", M),
    step("l_list", "legacyListAudio", M, query={"page": 1, "limit": 5}),
    step("l_up", "legacyUploadAudio", M, form={"file": MP3, "name": "Tooling check legacy"},
         prism=False),
    step("l_get", "legacyGetAudio", M, path={"audioId": "${l_up.audioId}"}),
    step("l_send", "legacySendAudio", M, path={"audioId": "${l_up.audioId}"},
         body={"externalIds": ["store_002"]}),
    step("l_delete", "legacyDeleteAudio", M, path={"audioId": "${l_up.audioId}"}),
    step("l_issue", "legacyIssueToken", M, key=None,
         body={"externalId": "store_001", "companyToken": COMPANY_TOKEN}),
    step("l_issue_401", "legacyIssueToken", M, expect=401, key=None,
         body={"externalId": "store_001", "companyToken": "msk_company_wrongwrongwrong0"}),
    step("l_revoke", "legacyRevokeToken", M, key="${l_issue.token}"),

    # --- MusicArk
    step("songs", "listSongs", A, query={"limit": 3, "offset": 0}),
    step("song", "getSong", A, path={"id": "${songs.data.0.id}"}),
    step("song_404", "getSong", A, expect=404, path={"id": "00000000-0000-4000-8000-000000000000"}),
    step("songs_401", "listSongs", A, expect=401, key="mk_live_wrongwrongwrongwrongwrongwrong00"),
    step("text", "searchText", A, query={"q": "love", "max_results": 5}),
    step("text_400", "searchText", A, expect=400, query={"q": "   "}),
    step("color", "searchColor", A, query={"h": 30, "max_results": 5}),
    step("emotional", "searchEmotional", A, query={"min_valence": 500, "max_results": 5}),
    step("text_429_first", "searchText", A, query={"q": "love"}, key="${t429.musicark.keys.0.key}"),
    step("text_429", "searchText", A, expect=429, query={"q": "love"},
         key="${t429.musicark.keys.0.key}"),

    # --- control plane, the rest
    step("fault", "createFault", C, expect=201, path={"tenant": T},
         body={"path": "/api/v1/integration/audio", "status": 503}),
    step("faults", "listFaults", C, path={"tenant": T}),
    step("fault_delete", "deleteFault", C, expect=204, path={"tenant": T, "fault": "${fault.id}"}),
    step("faults_clear", "clearFaults", C, expect=204, path={"tenant": T}),
    step("player", "getPlayer", C, path={"tenant": T, "external_id": "store_001"}),
    step("player_set", "setPlayer", C, path={"tenant": T, "external_id": "store_001"},
         body={"online": False}),
    step("player_404", "getPlayer", C, expect=404, path={"tenant": T, "external_id": "store_999"}),
    step("hook", "createWebhook", C, expect=201, path={"tenant": T},
         body={"url": "http://127.0.0.1:9/hook"}),
    step("hooks", "listWebhooks", C, path={"tenant": T}),
    step("hook_delete", "deleteWebhook", C, expect=204, path={"tenant": T, "webhook": "${hook.id}"}),
    step("outbox", "listOutbox", C, path={"tenant": T}),
    step("requests", "listRequests", C, path={"tenant": "default"}, query={"limit": 5}),
    step("sends", "listSends", C, path={"tenant": "default"}, query={"limit": 5}),
    step("send_view", "getSend", C, path={"tenant": "default", "send_id": "${send.sendId}"}),
    step("stores", "listStores", C, path={"tenant": T}, query={"limit": 5}),
    step("library", "listLibrary", C, path={"tenant": "default"}),
    step("limits", "listLimits", C, path={"tenant": T}),
    step("scenario", "exportScenario", C, path={"tenant": T}),
    # The event stream never ends on its own (a generated client would wait for its end): its
    # finite answer, the 404 of an unknown tenant, is what the clients can check.
    step("events_404", "tenantEvents", C, expect=404, path={"tenant": "ten_doesnotexist"},
         sse=True),
    step("requests_clear", "clearRequests", C, expect=204, path={"tenant": T}),
    step("tenant_reset", "resetTenant", C, path={"tenant": T}),
    step("tenant_delete", "deleteTenant", C, expect=204, path={"tenant": T}),
    step("delete", "deleteAudio", M, path={"id": "${up.id}"}),
    step("default_reset", "resetDefault", C),
]
