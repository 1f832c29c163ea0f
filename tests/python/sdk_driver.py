"""Drives a Sailfin server through the official Qianfan Python SDK (`qianfan` on PyPI).

The TypeScript tests (tests/src/sdk-python.test.ts) spawn this with `.venv/bin/python`. Every
request goes through the SDK's own code path (`console_api_request` -> ConsoleAPIRequestor ->
bce-python-sdk signer), so its signing quirks are exercised for real: 300 s expiry, unsorted
signedHeaders, `?Action=` on V1 routes sent through call_action, host signed with the port and
the signed `request-source` header.

Input on stdin, either
  * a JSON array of calls: all are run, one result line each, then the process exits; or
  * JSON Lines: one call (object) per line, answered by one result line as soon as it is read,
    so a caller can feed a later call with ids from an earlier result.

A call is one of
  {"kind": "call_action", "route": "/v2/finetuning", "action": "DescribeFineTuningJobs", "params": {}}
  {"kind": "FineTune.V2.create_job", "args": {"name": "...", "model": "...", "train_mode": "SFT"}}
  {"kind": "Model.detail", "args": {"model_version_id": "amv-..."}}
i.e. `call_action` or a dotted path to a helper on qianfan.resources (FineTune, Model, Data, ...,
and `Eval`, which qianfan.resources does not export) called with keyword `args` (and optional
`positional` args: Model.V2.create_model_comp_task fails inside the SDK when its `config` is
given by keyword, as the SDK forwards every keyword to its requestor, which reads `config` as its
own options). Optional per call: "credentials": {"accessKey", "secretKey"} to sign with another
pair (wrong-secret tests).

The SDK's higher-level objects are reached the same way with a full dotted path,
  {"kind": "qianfan.dataset.Dataset.load", "args": {"qianfan_dataset_id": "ds-..."}}
and what they return (not a QfResponse) is kept: the result line carries `"ref": N` and a JSON
view of it (`"value"`), and a later call works on it:
  {"kind": "ref", "ref": N, "path": "inner_data_source_cache.release_dataset", "args": {}}
(`"call": false` reads the attribute instead of calling it). Anywhere in args,
{"$enum": "DataSetType.TextOnly"} is that member of qianfan.resources.console.consts (the typed
helpers call `.value` on their enum parameters) and {"$ref": N} is a kept object.

Output, one JSON line per call:
  {"ok": true, "status": 200, "body": {...}, "request": {"method", "url", "headers"}, "sent": [...]}
  {"ok": true, "ref": 3, "value": {...}, "sent": [...]}
  {"ok": false, "error": "<str(e)>", "type": "RequestError", "status": 400, "errorCode": ..., "sent": [...]}
`sent` lists every HTTP request the SDK made during the call, {"method", "url", "status", "ok"}
(`ok`: HTTP 200 and no error keys in the body), so the tests know which routes they reached.

Configuration comes from the environment: QIANFAN_ACCESS_KEY, QIANFAN_SECRET_KEY and
QIANFAN_CONSOLE_API_BASE_URL. Every other base URL is pointed at the same server, and no .env
file, cache directory or proxy from the machine is used, so nothing can reach the internet.
"""

import json
import os
import sys
import tempfile
import traceback

# Pin everything that could make the SDK talk to Baidu (or read the developer's settings) before
# qianfan reads its configuration at import time.
_base = os.environ.get("QIANFAN_CONSOLE_API_BASE_URL", "")
if not _base.startswith("http://127.0.0.1") and not _base.startswith("http://localhost"):
    sys.stderr.write(
        "sdk_driver: QIANFAN_CONSOLE_API_BASE_URL must point at a local server, got %r\n" % _base
    )
    sys.exit(2)
_scratch = tempfile.mkdtemp(prefix="sailfin-sdk-driver-")
# EvaluationManager.eval downloads into ./tmp.zip and unpacks into ./tmp_folder: keep them here.
os.chdir(_scratch)
os.environ["QIANFAN_BASE_URL"] = _base
os.environ["QIANFAN_IAM_BASE_URL"] = _base
os.environ["QIANFAN_DOT_ENV_CONFIG_FILE"] = os.path.join(_scratch, "no.env")
os.environ["QIANFAN_CACHE_DIR"] = _scratch
os.environ["QIANFAN_DISABLE_CACHE"] = "true"
os.environ["QIANFAN_DISABLE_EB_SDK"] = "true"
os.environ["QIANFAN_ENABLE_STRESS_TEST"] = "false"
os.environ["QIANFAN_INFER_RESOURCE_REFRESH_MIN_INTERVAL"] = "1000000000"
# One attempt per call: a retry would hide the server's first answer.
os.environ["QIANFAN_CONSOLE_API_RETRY_COUNT"] = "1"
os.environ["QIANFAN_CONSOLE_API_RETRY_TIMEOUT"] = "20"
# The higher-level objects poll (import, release, publish, training) every few seconds by default.
for _name in ("IMPORT", "RELEASE", "EXPORT", "MODEL_PUBLISH", "TRAIN"):
    os.environ["QIANFAN_%s_STATUS_POLLING_INTERVAL" % _name] = "0.05"
# EvaluationManager.eval polls eval/detail every 30 s by default.
os.environ["QIANFAN_EVALUATION_ONLINE_POLLING_INTERVAL"] = "0.05"
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = "*"
os.environ["no_proxy"] = "*"
for _name in ("QIANFAN_AK", "QIANFAN_SK", "QIANFAN_ACCESS_TOKEN", "QIANFAN_BEARER_TOKEN", "QIANFAN_PROXY"):
    os.environ.pop(_name, None)

import enum  # noqa: E402
import importlib  # noqa: E402

import qianfan  # noqa: E402
import qianfan.errors  # noqa: E402
import qianfan.resources as resources  # noqa: E402
import qianfan.resources.console.consts as console_consts  # noqa: E402
from qianfan.resources.console.eval import Eval  # noqa: E402
from qianfan.resources.console.utils import call_action  # noqa: E402
from qianfan.resources.http_client import HTTPClient  # noqa: E402

qianfan.disable_log()


# Every request the SDK sends, recorded at its one HTTP entry point (ConsoleAPIRequestor and the
# higher-level objects all go through HTTPClient.request).
_sent = []
_http_request = HTTPClient.request


def _recording_request(self, req):
    response = _http_request(self, req)
    ok = response.status_code == 200
    if ok:
        try:
            body = response.json()
            ok = isinstance(body, dict) and "error_code" not in body and "code" not in body
        except ValueError:
            ok = False
    _sent.append({"method": response.request.method, "url": response.request.url, "status": response.status_code, "ok": ok})
    return response


HTTPClient.request = _recording_request

# Objects returned by higher-level calls, by the number handed out for them.
_refs = {}


def _jsonable(value):
    """QfResponse bodies are plain JSON already; headers are a CaseInsensitiveDict."""
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    try:
        json.dumps(value)
        return value
    except TypeError:
        if isinstance(value, dict) or hasattr(value, "items"):
            return {str(k): _jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return [_jsonable(v) for v in value]
        return str(value)


def _view(value):
    """A JSON view of an object a higher-level call returned: pydantic fields, else public attributes."""
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return _jsonable(value)
    fields = getattr(value, "__fields__", None)
    if isinstance(fields, dict):
        out = {name: getattr(value, name, None) for name in fields}
    else:
        out = {k: v for k, v in vars(value).items() if not k.startswith("_")} if hasattr(value, "__dict__") else {}
    out = {k: (v if isinstance(v, (type(None), bool, int, float, str, list, dict, enum.Enum)) else type(v).__name__) for k, v in out.items()}
    out["__class__"] = type(value).__name__
    return _jsonable(out)


def _decode(value):
    """Replaces {"$enum": "Class.Member"} and {"$ref": N} markers in call arguments."""
    if isinstance(value, dict):
        if set(value) == {"$enum"}:
            target = console_consts
            for part in value["$enum"].split("."):
                if part.startswith("_"):
                    raise ValueError("bad enum %r" % value["$enum"])
                target = getattr(target, part)
            return target
        if set(value) == {"$ref"}:
            return _refs[value["$ref"]]
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _walk(target, path):
    for part in path.split("."):
        if part.startswith("_") or not hasattr(target, part):
            raise ValueError("no public attribute %r on %s" % (part, type(target).__name__))
        target = getattr(target, part)
    return target


def _resolve(kind):
    """`FineTune.V2.create_job` -> the helper on qianfan.resources (`Eval.V2.…` on its module);
    `qianfan.dataset.Dataset.load` -> that attribute of the longest importable module prefix.
    Private names are refused."""
    parts = kind.split(".")
    if any(part.startswith("_") for part in parts):
        raise ValueError("unknown SDK helper %r" % kind)
    if parts[0] == "qianfan":
        for cut in range(len(parts) - 1, 0, -1):
            name = ".".join(parts[:cut])
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as e:
                # Not a module: try a shorter prefix. A module whose own imports fail (an extra
                # that is not installed, e.g. qianfan[dataset_base]) is reported as it is.
                if e.name is not None and name.startswith(e.name):
                    continue
                raise
            target = _walk(module, ".".join(parts[cut:]))
            break
        else:
            raise ValueError("unknown SDK object %r" % kind)
    elif parts[0] == "Eval":
        target = _walk(Eval, ".".join(parts[1:]))
    else:
        try:
            target = _walk(resources, kind)
        except ValueError:
            raise ValueError("unknown SDK helper %r" % kind)
    if not callable(target):
        raise ValueError("%r is not callable" % kind)
    return target


def _answer(response):
    """A QfResponse as a result line; anything else is kept and answered by reference."""
    if isinstance(response, resources.QfResponse):
        request = getattr(response, "request", None)
        result = {"ok": True, "status": response.code, "body": _jsonable(response.body)}
        if request is not None:
            result["request"] = {
                "method": request.method,
                "url": request.url,
                "headers": _jsonable(dict(request.headers)),
            }
        return result
    ref = len(_refs) + 1
    _refs[ref] = response
    return {"ok": True, "ref": ref, "value": _view(response)}


def _run(call):
    kind = call.get("kind")
    config = qianfan.get_config()
    saved = (config.ACCESS_KEY, config.SECRET_KEY)
    creds = call.get("credentials")
    if creds:
        config.ACCESS_KEY = creds["accessKey"]
        config.SECRET_KEY = creds["secretKey"]
    del _sent[:]
    try:
        return dict(_call(kind, call), sent=list(_sent))
    except Exception as e:  # every SDK failure is reported, not raised: the test asserts on it
        failure = {"ok": False, "error": str(e), "type": type(e).__name__}
        for attr, key in (("status_code", "status"), ("error_code", "errorCode"), ("error_msg", "errorMsg")):
            if getattr(e, attr, None) is not None:
                failure[key] = _jsonable(getattr(e, attr))
        if not isinstance(e, (qianfan.errors.QianfanError, ValueError, TypeError)):
            failure["traceback"] = traceback.format_exc()[-2000:]
        failure["sent"] = list(_sent)
        return failure
    finally:
        config.ACCESS_KEY, config.SECRET_KEY = saved


def _call(kind, call):
    args = _decode(call.get("args", {}))
    positional = _decode(call.get("positional", []))
    if kind == "call_action":
        return _answer(call_action(call["route"], call.get("action", ""), _decode(call.get("params", {}))))
    if kind == "ref":
        target = _walk(_refs[call["ref"]], call["path"])
        return _answer(target(*positional, **args) if call.get("call", True) else target)
    return _answer(_resolve(kind)(*positional, **args))


def _emit(result):
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main():
    first = sys.stdin.read(1)
    while first and first.isspace():
        first = sys.stdin.read(1)
    if not first:
        return
    if first == "[":
        calls = json.loads(first + sys.stdin.read())
        for call in calls:
            _emit(_run(call))
        return
    line = first + sys.stdin.readline()
    while line:
        if line.strip():
            try:
                call = json.loads(line)
            except ValueError as e:
                _emit({"ok": False, "error": "bad JSON line: %s" % e, "type": "DriverError"})
            else:
                _emit(_run(call))
        line = sys.stdin.readline()


if __name__ == "__main__":
    main()
