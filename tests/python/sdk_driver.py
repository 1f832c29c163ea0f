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
i.e. `call_action` or a dotted path to a helper on qianfan.resources (FineTune, Model, Data, ...)
called with keyword `args` (and optional `positional` args: Model.V2.create_model_comp_task
fails inside the SDK when its `config` is given by keyword, as the SDK forwards every keyword to
its requestor, which reads `config` as its own options). Optional per call: "credentials": {"accessKey", "secretKey"} to sign
with another pair (wrong-secret tests).

Output, one JSON line per call:
  {"ok": true, "status": 200, "body": {...}, "request": {"method", "url", "headers"}}
  {"ok": false, "error": "<str(e)>", "type": "RequestError", "status": 400, "errorCode": ...}

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
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = "*"
os.environ["no_proxy"] = "*"
for _name in ("QIANFAN_AK", "QIANFAN_SK", "QIANFAN_ACCESS_TOKEN", "QIANFAN_BEARER_TOKEN", "QIANFAN_PROXY"):
    os.environ.pop(_name, None)

import qianfan  # noqa: E402
import qianfan.errors  # noqa: E402
import qianfan.resources as resources  # noqa: E402
from qianfan.resources.console.utils import call_action  # noqa: E402

qianfan.disable_log()


def _jsonable(value):
    """QfResponse bodies are plain JSON already; headers are a CaseInsensitiveDict."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        if isinstance(value, dict) or hasattr(value, "items"):
            return {str(k): _jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return [_jsonable(v) for v in value]
        return str(value)


def _resolve(kind):
    """`FineTune.V2.create_job` -> the helper on qianfan.resources; refuses private names."""
    target = resources
    for part in kind.split("."):
        if part.startswith("_") or not hasattr(target, part):
            raise ValueError("unknown SDK helper %r" % kind)
        target = getattr(target, part)
    if not callable(target):
        raise ValueError("%r is not callable" % kind)
    return target


def _run(call):
    kind = call.get("kind")
    config = qianfan.get_config()
    saved = (config.ACCESS_KEY, config.SECRET_KEY)
    creds = call.get("credentials")
    if creds:
        config.ACCESS_KEY = creds["accessKey"]
        config.SECRET_KEY = creds["secretKey"]
    try:
        if kind == "call_action":
            response = call_action(call["route"], call.get("action", ""), call.get("params", {}))
        else:
            response = _resolve(kind)(*call.get("positional", []), **call.get("args", {}))
        request = getattr(response, "request", None)
        result = {"ok": True, "status": response.code, "body": _jsonable(response.body)}
        if request is not None:
            result["request"] = {
                "method": request.method,
                "url": request.url,
                "headers": _jsonable(dict(request.headers)),
            }
        return result
    except Exception as e:  # every SDK failure is reported, not raised: the test asserts on it
        failure = {"ok": False, "error": str(e), "type": type(e).__name__}
        for attr, key in (("status_code", "status"), ("error_code", "errorCode"), ("error_msg", "errorMsg")):
            if getattr(e, attr, None) is not None:
                failure[key] = _jsonable(getattr(e, attr))
        if not isinstance(e, (qianfan.errors.QianfanError, ValueError, TypeError)):
            failure["traceback"] = traceback.format_exc()[-2000:]
        return failure
    finally:
        config.ACCESS_KEY, config.SECRET_KEY = saved


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
