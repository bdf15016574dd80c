"""What the runners share: the served documents, which holds each operation, and references."""
import json
import os
import re


def snake(name):
    """openapi-python-client's module names: legacyListAudio -> legacy_list_audio."""
    s = re.sub(r"[^A-Za-z0-9]+", "_", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower().strip("_")


def load_docs(docs_dir):
    """{doc name: document} for every served document fetched into docs_dir."""
    docs = {}
    for f in sorted(os.listdir(docs_dir)):
        if f.endswith(".json"):
            with open(os.path.join(docs_dir, f)) as fh:
                docs[f[:-5]] = json.load(fh)
    return docs


def operations(docs):
    """{operationId: (doc name, METHOD, path, operation)}; an id in two documents is an error."""
    ops, dup = {}, []
    for name, doc in docs.items():
        for path, item in doc.get("paths", {}).items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                oid = op.get("operationId")
                if oid in ops:
                    dup.append(oid)
                ops[oid] = (name, method.upper(), path, op)
    return ops, dup


def server_path(doc):
    """The document's own server, as a generated client uses it (path-level servers ignored)."""
    servers = doc.get("servers") or [{"url": "/"}]
    return servers[0]["url"].rstrip("/")


REF = re.compile(r"\$\{([^}]+)\}")


def lookup(ctx, dotted):
    v = ctx
    for part in dotted.split("."):
        v = v[int(part)] if isinstance(v, list) else v[part]
    return v


def resolve(value, ctx):
    """Replaces "${a.b.0.c}" references with earlier answers' values."""
    if isinstance(value, str):
        m = REF.fullmatch(value)
        if m:
            return lookup(ctx, m.group(1))
        return REF.sub(lambda mm: str(lookup(ctx, mm.group(1))), value)
    if isinstance(value, list):
        return [resolve(v, ctx) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, ctx) for k, v in value.items()}
    return value
