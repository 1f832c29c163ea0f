"""The ``serve`` recipe: a real engine process on a real port, checked against offline ``generate()``.

Two engines run for the module: one started the worker's way (``--spec``, a bearer key, batches
of 8) and one the vLLM way (argv, an int8 quantized folder, no key, batches of 1). The model is
tiny and peaked (``initializer_range`` 0.2, as test_generate.py's), so greedy decoding is far
from ties and token-for-token equality with ``generate()`` is a sharp test of continuous
batching: rows joining and leaving a running batch change no row's tokens. Sampled requests
with a seed use the random stream ``generate()`` gives prompt 0 of that seed, so they must
match too.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlparse

import pytest
import torch

from helpers import make_model_dir, subprocess_env, RUNTIME_ROOT
from protocol_schema import event_errors
from serving_fixtures import EOS, byte_level_tokenizer, write_tokenizer
from sailfin_runtime.generation import Settings, generate, row_rng
from sailfin_runtime.models.loading import load_model, resolve_dtype
from sailfin_runtime.serving.detokenize import Detokenizer, TextStream

KEY = "sk-test-0123456789"
NAME = "tiny-chat"
CPU = torch.device("cpu")


class Engine:
    """A running engine process; its events and stderr lines are read as they come."""

    def __init__(self, args: List[str]):
        self.proc = subprocess.Popen([sys.executable, "-m", "sailfin_runtime", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=subprocess_env(), cwd=RUNTIME_ROOT)
        self.events: "queue.Queue[dict]" = queue.Queue()
        self.all_events: List[dict] = []
        self.stderr: List[str] = []
        threading.Thread(target=self._read_events, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(iter(self.proc.stderr.readline, "")), daemon=True).start()
        self.url = ""

    def _read_events(self) -> None:
        for line in iter(self.proc.stdout.readline, ""):
            event = json.loads(line)
            self.all_events.append(event)
            self.events.put(event)

    def ready(self, timeout: float = 120) -> "Engine":
        event = self.events.get(timeout=timeout)
        assert event["event"] == "ready", (event, "".join(self.stderr))
        self.url = event["url"]
        return self

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def connection(self) -> http.client.HTTPConnection:
        parsed = urlparse(self.url)
        return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)


def call(engine: Engine, method: str, path: str, body: Any = None, key: Optional[str] = KEY,
         raw: Optional[bytes] = None) -> Tuple[int, Any]:
    conn = engine.connection()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response.status, payload


def complete(engine: Engine, key: Optional[str] = KEY, **body) -> Dict[str, Any]:
    status, payload = call(engine, "POST", "/v1/completions", {"model": NAME, **body}, key=key)
    assert status == 200, payload
    return payload


def stream(engine: Engine, key: Optional[str] = KEY, **body) -> List[Any]:
    """The data of every server-sent event, ``[DONE]`` included as the string."""
    conn = engine.connection()
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    conn.request("POST", "/v1/completions", body=json.dumps({"model": NAME, "stream": True, **body}), headers=headers)
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
    events = []
    for line in response.read().decode().split("\n"):
        if line.startswith("data: "):
            data = line[len("data: "):]
            events.append(data if data == "[DONE]" else json.loads(data))
    conn.close()
    return events


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Dict[str, str]:
    from test_quant import quantize_in_process

    root = str(tmp_path_factory.mktemp("serve"))
    model = make_model_dir(os.path.join(root, "model"), "qwen2", initializer_range=0.2, eos_token_id=EOS)
    write_tokenizer(model, byte_level_tokenizer())
    _, int8 = quantize_in_process(root, model, 8)
    write_tokenizer(int8, byte_level_tokenizer())
    key_file = os.path.join(root, "key")
    with open(key_file, "w") as f:
        f.write(KEY + "\n")
    os.chmod(key_file, 0o600)
    return {"root": root, "model": model, "int8": int8, "key": key_file}


@pytest.fixture(scope="module")
def keyed(folders):
    spec = os.path.join(folders["root"], "serve.json")
    with open(spec, "w") as f:
        json.dump({"version": 1, "modelDir": folders["model"], "servedModelName": NAME, "host": "127.0.0.1", "port": 0,
                   "apiKeyFile": folders["key"], "device": "cpu", "maxBatchSize": 8}, f)
    engine = Engine(["serve", "--spec", spec]).ready()
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def int8(folders):
    engine = Engine(["serve", "--model", folders["int8"], "--host", "127.0.0.1", "--port", "0", "--served-model-name", NAME,
                     "--device", "cpu", "--max-batch-size", "1", "--max-model-len", "1024"]).ready()
    yield engine
    engine.stop()


_MODELS: Dict[str, Any] = {}


def offline(folder: str, prompt: List[int], max_tokens: int, temperature: float = 0.0, top_p: float = 1.0, top_k: int = 0,
            repetition_penalty: float = 1.0, seed: Optional[int] = None, eos=(EOS,)):
    """``generate()`` of one prompt, and its text as the engine returns it (eos adds none)."""
    if folder not in _MODELS:
        _MODELS[folder] = load_model(folder, CPU, resolve_dtype("auto", CPU))
    settings = Settings(max_new_tokens=max_tokens, do_sample=temperature > 0, temperature=temperature or 1.0, top_p=top_p,
                        top_k=top_k, repetition_penalty=repetition_penalty, eos_token_ids=tuple(eos))
    out = generate(_MODELS[folder], [prompt], settings, [row_rng(seed or 0, 0)])[0]
    return out, text_of(out.ids)


def text_of(ids: List[int]) -> str:
    stream = TextStream(Detokenizer(byte_level_tokenizer()))
    return "".join(stream.add(i) for i in ids) + stream.finish()


def test_health_and_models(keyed):
    assert call(keyed, "GET", "/health", key=None) == (200, {"status": "ok"})
    status, models = call(keyed, "GET", "/v1/models")
    assert status == 200 and models["object"] == "list"
    assert models["data"] == [{"id": NAME, "object": "model", "created": models["data"][0]["created"], "owned_by": "sailfin",
                               "max_model_len": 128}]
    assert keyed.url.startswith("http://127.0.0.1:") and event_errors(keyed.all_events[0]) == []


def test_greedy_completion_equals_offline_generate(keyed, folders):
    prompt = [5, 17, 99, 123, 8, 42]
    answer = complete(keyed, prompt=prompt, max_tokens=24, temperature=0)
    expected, text = offline(folders["model"], prompt, 24)
    choice = answer["choices"][0]
    assert answer["object"] == "text_completion" and answer["model"] == NAME and answer["id"].startswith("cmpl-")
    assert choice == {"index": 0, "text": text, "logprobs": None, "finish_reason": expected.finish_reason}
    assert answer["usage"] == {"prompt_tokens": 6, "completion_tokens": len(expected.ids), "total_tokens": 6 + len(expected.ids)}


CONCURRENT = [  # prompt, max_tokens, sampling settings
    ([3], 40, {}),
    (list(range(10, 50)), 12, {}),
    ([250, 251, 7, 7, 7], 60, {}),
    ([88, 12, 12, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103], 30, {"repetition_penalty": 1.3}),
    ([31, 32, 33], 25, {"temperature": 0.8, "seed": 11}),
    ([200, 4, 9, 16, 25, 36, 49, 64, 81], 50, {"temperature": 1.2, "top_p": 0.9, "seed": 12}),
    ([144, 145], 5, {"temperature": 0.7, "top_k": 20, "seed": 13}),
    (list(range(100, 125)), 45, {"temperature": 1.0, "top_k": 50, "top_p": 0.95, "repetition_penalty": 1.1, "seed": 14}),
]


def test_concurrent_requests_each_equal_their_own_offline_answer(keyed, folders):
    results: Dict[int, Any] = {}

    def one(i: int) -> None:
        prompt, max_tokens, extra = CONCURRENT[i]
        time.sleep(0.015 * i)  # staggered: rows join a batch that is already decoding
        results[i] = complete(keyed, prompt=prompt, max_tokens=max_tokens, **{"temperature": 0, **extra})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(CONCURRENT))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i, (prompt, max_tokens, extra) in enumerate(CONCURRENT):
        settings = {"temperature": 0.0, **extra}
        expected, text = offline(folders["model"], prompt, max_tokens, **settings)
        choice = results[i]["choices"][0]
        assert (choice["text"], choice["finish_reason"]) == (text, expected.finish_reason), (i, extra)
        assert results[i]["usage"]["completion_tokens"] == len(expected.ids), i


def test_seeded_sampling_is_reproducible_and_the_seed_matters(keyed):
    body = {"prompt": [9, 8, 7], "max_tokens": 30, "temperature": 1.5, "ignore_eos": True}
    first = complete(keyed, seed=5, **body)["choices"][0]["text"]
    assert complete(keyed, seed=5, **body)["choices"][0]["text"] == first
    assert complete(keyed, seed=6, **body)["choices"][0]["text"] != first


def test_stream_chunks_concatenate_to_the_whole_answer(keyed):
    body = {"prompt": [60, 61, 62, 63], "max_tokens": 40, "temperature": 0.9, "seed": 3}
    whole = complete(keyed, **body)
    events = stream(keyed, stream_options={"include_usage": True}, **body)
    assert events[-1] == "[DONE]"
    usage, chunks = events[-2], events[:-2]
    assert usage["choices"] == [] and usage["usage"] == whole["usage"]
    assert all(c["object"] == "text_completion" and c["model"] == NAME and len(c["choices"]) == 1 for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == whole["choices"][0]["text"]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * (len(chunks) - 1) + [whole["choices"][0]["finish_reason"]]
    assert len({c["id"] for c in events[:-1]}) == 1
    # Without include_usage: no usage chunk.
    plain = stream(keyed, **body)
    assert plain[-1] == "[DONE]" and all("usage" not in c for c in plain[:-1])


def test_stop_strings_and_stop_token_ids(keyed, folders):
    prompt = [70, 71, 72, 73, 74]
    expected, text = offline(folders["model"], prompt, 40, eos=())
    assert len(text) > 8
    stop = text[5:7]
    cut = text.find(stop)
    answer = complete(keyed, prompt=prompt, max_tokens=40, temperature=0, ignore_eos=True, stop=[stop, "\u0000never"])
    assert answer["choices"][0]["text"] == text[:cut] and answer["choices"][0]["finish_reason"] == "stop"
    streamed = stream(keyed, prompt=prompt, max_tokens=40, temperature=0, ignore_eos=True, stop=stop)
    assert "".join(c["choices"][0]["text"] for c in streamed[:-1]) == text[:cut]
    # A stop token: generation ends on it, its text is not returned, it is counted.
    token = expected.ids[6]
    first = expected.ids.index(token)
    answer = complete(keyed, prompt=prompt, max_tokens=40, temperature=0, ignore_eos=True, stop_token_ids=[token])
    assert answer["choices"][0] == {"index": 0, "text": text_of(expected.ids[:first]), "logprobs": None, "finish_reason": "stop"}
    assert answer["usage"]["completion_tokens"] == first + 1


def test_max_tokens_ends_with_length(keyed):
    answer = complete(keyed, prompt=[1, 2, 3], max_tokens=7, temperature=0, ignore_eos=True)
    assert answer["choices"][0]["finish_reason"] == "length" and answer["usage"]["completion_tokens"] == 7
    default = complete(keyed, prompt=[1, 2, 3], temperature=0, ignore_eos=True)
    assert default["usage"]["completion_tokens"] == 16  # max_tokens' default


def test_the_api_key_is_required(keyed):
    for key in (None, "sk-wrong", KEY + "x"):
        status, payload = call(keyed, "POST", "/v1/completions", {"model": NAME, "prompt": [1]}, key=key)
        assert status == 401 and payload["error"]["code"] == "invalid_api_key" and payload["error"]["type"] == "invalid_request_error"
        assert call(keyed, "GET", "/v1/models", key=key)[0] == 401


@pytest.mark.parametrize("body,status,param", [
    ({"model": NAME, "prompt": "Hello"}, 400, "prompt"),
    ({"model": NAME, "prompt": ["Hello"]}, 400, "prompt"),
    ({"model": NAME, "prompt": [[1, 2], [3]]}, 400, "prompt"),
    ({"model": NAME, "prompt": []}, 400, "prompt"),
    ({"model": NAME, "prompt": [1, 300]}, 400, "prompt"),
    ({"model": "other", "prompt": [1]}, 404, "model"),
    ({"prompt": [1]}, 400, "model"),
    ({"model": NAME, "prompt": [1], "n": 2}, 400, "n"),
    ({"model": NAME, "prompt": list(range(120)), "max_tokens": 16}, 400, "prompt"),
    ({"model": NAME, "prompt": [1], "max_tokens": -1}, 400, "max_tokens"),
    ({"model": NAME, "prompt": [1], "max_tokens": 0}, 400, "max_tokens"),
    ({"model": NAME, "prompt": [1], "temperature": -0.5}, 400, "temperature"),
    ({"model": NAME, "prompt": [1], "top_p": 0}, 400, "top_p"),
    ({"model": NAME, "prompt": [1], "stop": [""]}, 400, "stop"),
    ({"model": NAME, "prompt": [1], "stop_token_ids": [-1]}, 400, "stop_token_ids"),
    ({"model": NAME, "prompt": [1], "echo": True}, 400, "echo"),
    ({"model": NAME, "prompt": [1], "logprobs": 2}, 400, "logprobs"),
    ({"model": NAME, "prompt": [1], "stream": "yes"}, 400, "stream"),
])
def test_bad_inputs_get_an_openai_error_naming_the_field(keyed, body, status, param):
    got, payload = call(keyed, "POST", "/v1/completions", body)
    assert got == status, payload
    error = payload["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == param and error["message"]
    if status == 404:
        assert error["code"] == "model_not_found"


def test_bad_json_and_unknown_routes_then_the_engine_still_serves(keyed):
    status, payload = call(keyed, "POST", "/v1/completions", raw=b"{not json")
    assert status == 400 and "JSON" in payload["error"]["message"]
    assert call(keyed, "POST", "/v1/chat/completions", {"model": NAME})[0] == 404
    assert call(keyed, "GET", "/nope")[0] == 404
    assert complete(keyed, prompt=[4, 5], max_tokens=3)["usage"]["completion_tokens"] <= 3


def test_an_int8_quantized_folder_serves_its_own_greedy_answer(int8, folders):
    prompt = [11, 22, 33, 44]
    answer = complete(int8, key=None, prompt=prompt, max_tokens=20, temperature=0)
    expected, text = offline(folders["int8"], prompt, 20)
    assert answer["choices"][0]["text"] == text and answer["usage"]["completion_tokens"] == len(expected.ids)


def test_a_client_that_disconnects_frees_its_row(int8):
    conn = int8.connection()
    conn.request("POST", "/v1/completions", body=json.dumps({
        "model": NAME, "prompt": [7, 8], "max_tokens": 1000, "ignore_eos": True, "stream": True}))
    response = conn.getresponse()
    assert response.status == 200
    assert response.fp.readline().startswith(b"data: ")  # decoding has begun
    response.close()  # the connection's socket is the response's now (Connection: close): this closes it
    conn.close()
    # Batches of 1: this request can only run once the abandoned row has left the batch.
    started = time.monotonic()
    assert complete(int8, key=None, prompt=[1, 2], max_tokens=4, ignore_eos=True)["usage"]["completion_tokens"] == 4
    assert time.monotonic() - started < 60
    gone = [line for line in int8.stderr if "a client went away" in line]
    assert len(gone) == 1
    tokens = int(gone[0].split("after ")[1].split(" ")[0])
    assert tokens < 1000, gone


def test_sigterm_ends_open_streams_emits_stopped_and_exits_0(int8):
    """Last in the module: it stops the int8 engine."""
    conn = int8.connection()
    conn.request("POST", "/v1/completions", body=json.dumps({
        "model": NAME, "prompt": [7, 8], "max_tokens": 1000, "ignore_eos": True, "stream": True}))
    response = conn.getresponse()
    assert response.fp.readline().startswith(b"data: ")
    assert int8.stop() == 0
    rest = response.read().decode()  # the open stream ended: an error event, then [DONE]
    assert '"code":"engine_stopping"' in rest and rest.rstrip().endswith("data: [DONE]")
    time.sleep(0.2)
    names = [e["event"] for e in int8.all_events]
    assert names == ["ready", "stopped"]
    assert all(event_errors(e) == [] for e in int8.all_events)


def test_a_key_file_others_can_read_is_refused(folders):
    loose = os.path.join(folders["root"], "loose-key")
    with open(loose, "w") as f:
        f.write(KEY)
    os.chmod(loose, 0o644)
    proc = subprocess.run([sys.executable, "-m", "sailfin_runtime", "serve", "--model", folders["model"], "--api-key-file", loose,
                           "--device", "cpu"], capture_output=True, text=True, env=subprocess_env(), cwd=RUNTIME_ROOT, timeout=120)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 2 and events[-1]["kind"] == "user" and events[-1]["message"].startswith("apiKeyFile:")
    assert KEY not in proc.stdout + proc.stderr


def test_out_of_memory_fails_that_steps_requests_and_the_engine_goes_on(folders):
    """In-process: a step that runs out of memory answers its requests 503 and the next request is served."""
    from sailfin_runtime.serving.scheduler import Request, Scheduler

    model = load_model(folders["model"], CPU, torch.float32)
    delivered: "queue.Queue[tuple]" = queue.Queue()
    scheduler = Scheduler(model, Detokenizer(byte_level_tokenizer()), 4, lambda batch: [delivered.put(x) for x in batch])
    real, calls = model.next_token_logits, {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # a decoding step, with a row running
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(*args, **kwargs)

    model.next_token_logits = flaky
    thread = threading.Thread(target=scheduler.run)
    thread.start()
    try:
        def ask(prompt):
            request = Request(prompt=prompt, max_tokens=5, settings=Settings(max_new_tokens=5), rng=None,
                              stop_ids=frozenset(), stop_texts=())
            scheduler.submit(request)
            while True:
                got, event = delivered.get(timeout=60)
                assert got is request
                if event[0] != "delta":
                    return event

        assert ask([1, 2, 3]) == ("error", 503, "the engine ran out of memory on this batch; retry, or ask for fewer tokens",
                                  "out_of_memory")
        assert ask([4, 5, 6]) == ("usage", 3, 5)
    finally:
        scheduler.stop()
        thread.join(timeout=30)
