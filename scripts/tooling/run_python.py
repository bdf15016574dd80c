"""Runs scenario.STEPS through the clients openapi-python-client generated, one per served
document (packages sc_<doc> under GEN), checking each answer's status and that the client parsed
its body without an error. Prints one line per failing step, then a summary line.

  python run_python.py DOCS_DIR GEN_DIR BASE_URL [--prism doc=URL ...] [--label NAME]
"""
import argparse
import importlib
import io
import json
import os
import sys
import typing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import scenario  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("docs")
    ap.add_argument("gen")
    ap.add_argument("base")
    ap.add_argument("--prism", action="append", default=[], help="doc=URL: send that document's calls there")
    ap.add_argument("--label", default="openapi-python-client")
    ap.add_argument("--root", default=".")
    a = ap.parse_args()
    docs = common.load_docs(a.docs)
    ops, dup = common.operations(docs)
    prism = dict(p.split("=", 1) for p in a.prism)
    sys.path.insert(0, a.gen)
    failures, failed_ops, ctx = [], set(), {}

    def fail(st, msg):
        failures.append(st["name"])
        failed_ops.add(st["op"])
        print(f"FAIL [{a.label}] {st['op']} ({st['name']}): {msg}", flush=True)

    for oid in dup:
        print(f"FAIL [{a.label}] {oid}: operationId in two documents", flush=True)
        failed_ops.add(oid)
    covered = {st["op"] for st in scenario.STEPS}
    for oid in sorted(set(ops) - covered):
        print(f"FAIL [{a.label}] {oid}: served, but scenario.py has no step for it", flush=True)
        failed_ops.add(oid)
    for st in scenario.STEPS:
        if st["op"] not in ops:
            fail(st, "no served document has this operation")
            continue
        doc, _method, _path, op = ops[st["op"]]
        base = a.base + common.server_path(docs[doc])
        if st["prism"] and doc in prism:
            base = prism[doc]
        try:
            resolved = common.resolve({k: st[k] for k in ("path", "query", "headers", "body", "form", "key")}, ctx)
        except (KeyError, IndexError, TypeError) as e:
            fail(st, f"an earlier answer it needs is missing ({e!r})")
            continue
        try:
            pkg = "sc_" + common.snake(doc)
            client_mod = importlib.import_module(pkg + ".client")
            mod = find_module(pkg, common.snake(st["op"]))
            headers = dict(resolved["headers"])
            if resolved["key"]:
                auth = scenario.AUTH[st["api"]]
                if auth == "bearer":
                    headers["Authorization"] = "Bearer " + resolved["key"]
                else:
                    headers[auth] = resolved["key"]
            client = client_mod.Client(base_url=base, raise_on_unexpected_status=True,
                                       headers={k: v for k, v in headers.items() if k.lower() != "range"},
                                       timeout=60.0)
            kwargs = call_args(mod.sync_detailed, op, resolved, a.root)
            resp = mod.sync_detailed(client=client, **kwargs)
        except Exception as e:  # the client's own error is the finding
            fail(st, f"client raised {type(e).__name__}: {' '.join(str(e).split())[:300]}")
            continue
        status = int(resp.status_code)
        if status != st["expect"]:
            fail(st, f"status {status}, expected {st['expect']}: {resp.content[:200]!r}")
            continue
        documented = op.get("responses", {}).get(str(status), {})
        json_body = any("json" in ct for ct in documented.get("content", {}))
        if json_body and resp.parsed is None:
            fail(st, f"status {status}: the client did not parse the body: {resp.content[:200]!r}")
            continue
        if st["binary"] and not resp.content:
            fail(st, "empty binary body")
            continue
        if json_body:
            try:
                body = json.loads(resp.content)
                # `--envelope wrapped`: later steps refer to the object inside.
                if isinstance(body, dict) and set(body) == {"data", "timestamp"} and isinstance(body["data"], dict):
                    body = body["data"]
                ctx[st["name"]] = body
            except ValueError as e:
                fail(st, f"body is not JSON: {e}")
    print(f"SUMMARY [{a.label}] steps={len(scenario.STEPS)} failing_steps={len(failures)} "
          f"failing_operations={len(failed_ops)} ({', '.join(sorted(failed_ops))})", flush=True)
    sys.exit(1 if failures or failed_ops else 0)


def find_module(pkg, mod_name):
    api = importlib.import_module(pkg + ".api")
    for tag in sorted(os.listdir(os.path.dirname(api.__file__))):
        if os.path.exists(os.path.join(os.path.dirname(api.__file__), tag, mod_name + ".py")):
            return importlib.import_module(f"{pkg}.api.{tag}.{mod_name}")
    raise LookupError(f"no module {mod_name} in {pkg}.api")


def call_args(fn, op, resolved, root):
    """Keyword arguments of sync_detailed: path, query and header parameters by their Python
    names, the body as the generated model."""
    hints = typing.get_type_hints(fn)
    names = {n.strip("_").lower(): n for n in hints}
    kwargs = {}
    for where in ("path", "query", "headers"):
        for k, v in resolved[where].items():
            py = names.get(common.snake(k))
            if py is None:
                raise LookupError(f"sync_detailed has no argument for {where} parameter {k!r}")
            kwargs[py] = v
    if resolved["body"] is not None or resolved["form"] is not None:
        cls = model_class(hints.get("body"))
        if resolved["form"] is not None:
            form = dict(resolved["form"])
            path = os.path.join(root, form["file"])
            with open(path, "rb") as fh:
                data = fh.read()
            form["file"] = data
            body = cls.from_dict(form)
            types = importlib.import_module(fn.__module__.split(".")[0] + ".types")
            body.file = types.File(payload=io.BytesIO(data), file_name=os.path.basename(path),
                                   mime_type="audio/mpeg")
        else:
            body = cls.from_dict(resolved["body"]) if cls is not None else resolved["body"]
        kwargs["body"] = body
    return kwargs


def model_class(hint):
    """The generated model inside a hint such as `SendBody | Unset`."""
    if hint is None:
        return None
    if hasattr(hint, "from_dict"):
        return hint
    for arg in typing.get_args(hint):
        found = model_class(arg)
        if found is not None:
            return found
    return None


if __name__ == "__main__":
    main()
