"""Regenerates api/*.json, the SDK facts the OpenAPI document is built from.

Run by hand when the pinned SDK version changes (CI never runs it: it reads
the committed files). Inputs: the shared catalog directory (kms/csms/vpcep/
iam_subset.json and its extract.py, which also yields CTS's ListTraces) and
the official SDK packages importable by this interpreter (huaweicloudsdkkms,
-csms, -vpcep, -cts, -iam, all at the catalog's version).

    python api/refresh.py /work/shared/api

Kept per operation: method, path, parameters, body and response models.
Kept per model field: wire name, type, and whether the SDK requires it (the
SDK's generated __init__ assigns required attributes unconditionally and
optional ones under `if x is not None`). Docstring prose is dropped.
"""

import importlib
import inspect
import json
import os
import re
import sys

SERVICES = [
    # (file, catalog file, SDK package)
    ("kms", "kms.json", "huaweicloudsdkkms.v2"),
    ("csms", "csms.json", "huaweicloudsdkcsms.v1"),
    ("vpcep", "vpcep.json", "huaweicloudsdkvpcep.v1"),
    ("iam", "iam_subset.json", "huaweicloudsdkiam.v3"),
]
CTS = ("cts", "huaweicloudsdkcts.v3", "cts_client", "CtsClient", {"ListTraces"})

REQUIRED_LINE = re.compile(r"^        self\.(\w+) = (\w+)$")


def required_attrs(cls):
    """Attributes the generated __init__ sets unconditionally."""
    try:
        source = inspect.getsource(cls.__init__)
    except (OSError, TypeError):
        return set()
    out = set()
    for line in source.splitlines():
        m = REQUIRED_LINE.match(line)
        if m and m.group(1) == m.group(2):
            out.add(m.group(1))
    return out


def model_class(pkg, name):
    return getattr(importlib.import_module(pkg + ".model"), name, None)


def refs(typ):
    return re.findall(r"[A-Z]\w+", typ)


def compact(catalog, pkg):
    models = catalog["models"]

    def required(model_name):
        cls = model_class(pkg, model_name) if model_name else None
        return required_attrs(cls) if cls else set()

    ops, keep, todo = [], set(), []
    for op in catalog["operations"]:
        req = required(op["request_model"])

        def params(items, always=False):
            return [
                {"name": p["name"], "type": p["type"], "required": always or p["attr"] in req}
                for p in items
            ]

        ops.append({
            "name": op["name"],
            "method": op["method"],
            "path": op["path"],
            "path_params": params(op["path_params"], always=True)
            + [{"name": n, "type": "str", "required": True} for n in op["implicit_path_params"]],
            "query_params": params(op["query_params"]),
            "header_params": params(op["header_params"]),
            "request_body_model": op["request_body_model"],
            # A body parameter the SDK requires is a body the request must have.
            "request_body_required": bool(op["request_body_model"]) and "body" in req,
            "response_model": op["response_model"],
            "response_body": op["response_body"],
            "response_headers": op["response_headers"],
        })
        todo += [op["request_body_model"], op["response_model"]]
    while todo:
        name = todo.pop()
        if not name or name in keep or name not in models:
            continue
        keep.add(name)
        for f in models[name]["fields"]:
            todo += refs(f["type"])
    out_models = {}
    for name in sorted(keep):
        req = required(name)
        out_models[name] = {"fields": [
            {"name": f["name"], "type": f["type"], "required": f["attr"] in req}
            for f in models[name]["fields"]
        ]}
    return {"service": catalog["service"], "sdk_module": pkg,
            "sdk_version": catalog["sdk_version"], "operations": ops, "models": out_models}


def write(outdir, name, data):
    with open(os.path.join(outdir, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


def main():
    shared = sys.argv[1]
    outdir = os.path.dirname(os.path.abspath(__file__))
    for name, file, pkg in SERVICES:
        with open(os.path.join(shared, file), encoding="utf-8") as f:
            write(outdir, name, compact(json.load(f), pkg))
    sys.path.insert(0, shared)
    extract = importlib.import_module("extract")
    service, pkg, mod, cls, only = CTS
    write(outdir, service, compact(extract.build(service, pkg, mod, cls, only_ops=only), pkg))


if __name__ == "__main__":
    main()
