#!/usr/bin/python3
"""A stand-in for OpenAI's transcription and chat completions APIs, for tests. Standard library only.

Speaks the real wire format of POST /v1/audio/transcriptions (multipart/form-data with `file`,
`model`, `language`, `prompt`, `temperature`, `response_format`, `timestamp_granularities[]`)
and answers `json`, `text`, `srt`, `vtt` or `verbose_json`, with segments and words derived
from the uploaded audio's duration (read from WAV, FLAC and Ogg headers, else from ffprobe).
Errors use OpenAI's body: {"error": {"message", "type", "param", "code"}}. Also GET /v1/models.

POST /v1/chat/completions speaks the chat completions wire format: a JSON body with `model`,
`messages` (role/content), optional `temperature` and `response_format` ({"type": "json_schema",
"json_schema": {"name", "strict", "schema"}} or {"type": "json_object"}); it answers a
`chat.completion` object whose message content is a meeting report in the requested JSON
shape. Like a model it "reads" the last user message: each line "[S12 ...] text" is a reference
and a text; the summary takes the first lines, decisions the lines with a decision phrase,
actions those with a commitment, excerpts the first and last lines.

Usage:
  /usr/bin/python3 tests/stand_ins/openai_stand_in.py [flags]
The first line on stdout is "LISTENING http://127.0.0.1:PORT/v1" (flushed); the base URL to
give a client (OPENAI_BASE_URL). The server runs until killed (SIGTERM/SIGINT).

Flags:
  --port N              port to listen on (default 0: an ephemeral port)
  --api-key KEY         the key requests must carry as "Authorization: Bearer KEY"
                        (default "sk-stand-in"); any other answers 401 invalid_api_key
  --fail N              the next N transcription requests fail (default 0)...
  --fail-status CODE    ...with this status: 429, 500, 502, 503 (default 500)
  --retry-after S       Retry-After header (seconds) sent with those failures (default: none)
  --quota-exhausted     429 failures say insufficient_quota (not worth retrying)
  --delay S             wait S seconds before answering each transcription (default 0)
  --max-bytes N         refuse files larger than N bytes with 413 (default 26214400, OpenAI's)
  --segment-seconds S   length of the generated segments (default 4)
  --word-seconds S      spacing of the generated words (default 0.5)
  --words "W1 W2 ..."   the words the answers cycle through (default: a French sentence)
  --record FILE         also append one JSON line per received request to FILE
  --chat-fail N         the next N chat requests fail with --fail-status (default 0)
  --chat-garbage N      the next N chat requests answer 200 with content that is not the
                        requested JSON (default 0; -1: always)
  --no-json-schema      refuse response_format json_schema with 400 (as servers without
                        structured outputs do); json_object still works

Control endpoints (for tests, no authentication):
  POST /control         JSON body with any of: fail, fail_status, retry_after, quota_exhausted,
                        delay, max_bytes, api_key, words (a list), segment_seconds,
                        word_seconds, chat_fail, chat_garbage, no_json_schema, reset (true: forget recorded requests and
                        restore the command-line settings). Answers the resulting settings.
  GET  /requests        JSON list of the requests received so far: path, headers (the
                        Authorization header included, as received), form fields, file name,
                        content type and size, the audio duration found, and the status answered.
                        Chat requests carry their JSON body as "json".

Accepted models: whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe (the gpt-4o ones refuse
verbose_json, as OpenAI's do). Accepted file extensions: OpenAI's list (flac, m4a, mp3, mp4,
mpeg, mpga, oga, ogg, wav, webm).
"""

import argparse
import io
import json
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCEPTED_EXTENSIONS = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"]
MODELS = ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"]
FORMATS = ["json", "text", "srt", "verbose_json", "vtt"]
WORDS = ["bonjour", "maître", "voici", "le", "contrat", "de", "cession", "des", "parts",
         "sociales", "signé", "à", "Paris", "le", "bilan", "est", "prêt"]


class State:
    def __init__(self, args):
        self.defaults = {
            "fail": args.fail, "fail_status": args.fail_status, "retry_after": args.retry_after,
            "quota_exhausted": args.quota_exhausted, "delay": args.delay,
            "max_bytes": args.max_bytes, "api_key": args.api_key,
            "words": args.words.split() if args.words else list(WORDS),
            "segment_seconds": args.segment_seconds, "word_seconds": args.word_seconds,
            "chat_fail": args.chat_fail, "chat_garbage": args.chat_garbage,
            "no_json_schema": args.no_json_schema,
        }
        self.settings = dict(self.defaults)
        self.record_path = args.record
        self.requests = []
        self.generation = 0  # bumped by each reset
        self.lock = threading.Lock()

    def record(self, entry):
        with self.lock:
            # A request that arrived before a reset (e.g. one still sleeping in --delay) is not
            # reported after it.
            if entry.pop("generation") != self.generation:
                return
            self.requests.append(entry)
        if self.record_path:
            with open(self.record_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")


# ---- multipart/form-data -------------------------------------------------------------------

def parse_multipart(body, content_type):
    """Returns a list of (name, filename or None, content type or None, bytes)."""
    boundary = None
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise ValueError("no boundary in Content-Type")
    delimiter = b"--" + boundary.encode("latin-1")
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part has no header end")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = filename = ctype = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                for attr in value.split(";")[1:]:
                    k, _, v = attr.strip().partition("=")
                    if k == "name":
                        name = v.strip('"')
                    elif k == "filename":
                        filename = v.strip('"')
            elif key.strip().lower() == "content-type":
                ctype = value.strip()
        parts.append((name, filename, ctype, data))
    return parts


# ---- audio duration ------------------------------------------------------------------------

def wav_duration(data):
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / float(w.getframerate())


def flac_duration(data):
    # fLaC, then the STREAMINFO block: 20-bit rate, 3+5 bits, 36-bit total samples.
    info = data[8:8 + 18]
    rate = (info[10] << 12) | (info[11] << 4) | (info[12] >> 4)
    total = ((info[13] & 0x0F) << 32) | struct.unpack(">I", info[14:18])[0]
    return total / float(rate)


def ogg_duration(data):
    last = data.rfind(b"OggS")
    granule = struct.unpack("<q", data[last + 6:last + 14])[0]
    head = data.find(b"OpusHead")
    if head >= 0:
        pre_skip = struct.unpack("<H", data[head + 10:head + 12])[0]
        return max(0.0, (granule - pre_skip) / 48000.0)
    vorbis = data.find(b"\x01vorbis")
    if vorbis >= 0:
        rate = struct.unpack("<I", data[vorbis + 12:vorbis + 16])[0]
        return granule / float(rate)
    raise ValueError("unknown ogg codec")


def ffprobe_duration(data, ext):
    with tempfile.NamedTemporaryFile(suffix="." + ext) as f:
        f.write(data)
        f.flush()
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
             f.name], capture_output=True, text=True, timeout=30)
        return float(out.stdout.strip())


def audio_duration(data, ext):
    try:
        if data[:4] == b"RIFF":
            return wav_duration(data)
        if data[:4] == b"fLaC":
            return flac_duration(data)
        if data[:4] == b"OggS":
            return ogg_duration(data)
        return ffprobe_duration(data, ext)
    except Exception:  # noqa: BLE001 - anything unreadable is "not audio" to the caller
        return None


# ---- answers -------------------------------------------------------------------------------

def make_transcript(duration, language, seg_len, word_step, vocabulary=WORDS):
    segments, words = [], []
    t, index, seg_id = 0.0, 0, 0
    while t < duration - 1e-6:
        seg_end = min(duration, t + seg_len)
        seg_words = []
        w = t
        while w < seg_end - 1e-6:
            w_end = min(seg_end, w + word_step * 0.8)
            seg_words.append({"word": vocabulary[index % len(vocabulary)], "start": round(w, 3),
                              "end": round(w_end, 3)})
            index += 1
            w += word_step
        text = "".join(" " + x["word"] for x in seg_words)
        segments.append({
            "id": seg_id, "seek": int(t * 100), "start": round(t, 3), "end": round(seg_end, 3),
            "text": text, "tokens": [50365 + i for i in range(len(seg_words))],
            "temperature": 0.0, "avg_logprob": -0.21, "compression_ratio": 1.3,
            "no_speech_prob": 0.01})
        words.extend(seg_words)
        seg_id += 1
        t = seg_end
    text = "".join(s["text"] for s in segments).strip()
    return {"task": "transcribe", "language": language, "duration": round(duration, 3),
            "text": text, "segments": segments, "words": words}


def timestamp(seconds, sep):
    ms = int(round(seconds * 1000))
    return "%02d:%02d:%02d%s%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, sep,
                                     ms % 1000)


def render(doc, fmt, granularities):
    if fmt == "json":
        return "application/json", json.dumps({"text": doc["text"]}, ensure_ascii=False)
    if fmt == "text":
        return "text/plain; charset=utf-8", doc["text"] + "\n"
    if fmt in ("srt", "vtt"):
        sep = "," if fmt == "srt" else "."
        lines = [] if fmt == "srt" else ["WEBVTT", ""]
        for i, s in enumerate(doc["segments"]):
            if fmt == "srt":
                lines.append(str(i + 1))
            lines.append(timestamp(s["start"], sep) + " --> " + timestamp(s["end"], sep))
            lines.extend([s["text"].strip(), ""])
        return "text/plain; charset=utf-8", "\n".join(lines) + "\n"
    out = dict(doc)
    if "word" not in granularities:
        out.pop("words")
    if granularities and "segment" not in granularities:
        out.pop("segments")
    return "application/json", json.dumps(out, ensure_ascii=False)


def language_name(code):
    names = {"fr": "french", "en": "english", "de": "german", "es": "spanish", "it": "italian"}
    return names.get(code, code or "french")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "openai-stand-in/1"

    def log_message(self, fmt, *args):  # quiet: tests read stdout/stderr
        pass

    def send_body(self, status, ctype, body, headers=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        entry = getattr(self, "entry", None)
        if entry is not None:  # recorded before answering, so a client sees it at once
            entry["status"] = status
            self.server.state.record(entry)
            self.entry = None
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_%d" % int(time.time() * 1e6))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_body(self, status, message, etype, param=None, code=None, headers=None):
        body = {"error": {"message": message, "type": etype, "param": param, "code": code}}
        self.send_body(status, "application/json", json.dumps(body), headers)
        return status

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        state = self.server.state
        if self.path == "/requests":
            with state.lock:
                body = json.dumps(state.requests, ensure_ascii=False)
            return self.send_body(200, "application/json", body)
        if self.path == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "openai"}
                    for m in MODELS]
            return self.send_body(200, "application/json",
                                  json.dumps({"object": "list", "data": data}))
        self.send_error_body(404, "Unknown request URL: GET %s." % self.path,
                             "invalid_request_error", code="unknown_url")

    def do_POST(self):
        state = self.server.state
        body = self.read_body()
        if self.path == "/control":
            change = json.loads(body or b"{}")
            with state.lock:
                if change.pop("reset", False):
                    state.settings = dict(state.defaults)
                    state.requests = []
                    state.generation += 1
                state.settings.update(change)
                settings = dict(state.settings)
            return self.send_body(200, "application/json", json.dumps(settings))
        if self.path == "/v1/chat/completions":
            with state.lock:
                generation = state.generation
            self.entry = {"path": self.path, "headers": dict(self.headers.items()),
                          "received_at": time.time(), "generation": generation}
            return self.chat(state, body, self.entry)
        if self.path != "/v1/audio/transcriptions":
            return self.send_error_body(404, "Unknown request URL: POST %s." % self.path,
                                        "invalid_request_error", code="unknown_url")
        with state.lock:
            generation = state.generation
        self.entry = {"path": self.path, "headers": dict(self.headers.items()), "fields": {},
                      "received_at": time.time(), "generation": generation}
        self.transcribe(state, body, self.entry)

    def transcribe(self, state, body, entry):
        with state.lock:
            settings = dict(state.settings)
            failing = settings["fail"] > 0
            if failing:
                state.settings["fail"] -= 1
        auth = self.headers.get("Authorization", "")
        if auth != "Bearer " + settings["api_key"]:
            shown = auth[7:][:3] + "*" * 4 + auth[-4:] if auth.startswith("Bearer ") else ""
            msg = ("Incorrect API key provided: %s. You can find your API key at "
                   "https://platform.openai.com/account/api-keys." % shown
                   if shown else "You didn't provide an API key.")
            return self.send_error_body(401, msg, "invalid_request_error",
                                        code="invalid_api_key")
        try:
            parts = parse_multipart(body, self.headers.get("Content-Type", ""))
        except ValueError as e:
            return self.send_error_body(400, "Could not parse multipart form: %s" % e,
                                        "invalid_request_error")
        fields, upload = {}, None
        for name, filename, ctype, data in parts:
            if filename is not None and name == "file":
                upload = (filename, ctype, data)
            else:
                fields.setdefault(name, []).append(data.decode("utf-8", "replace"))
        entry["fields"] = fields
        if upload:
            entry["file"] = {"name": upload[0], "content_type": upload[1],
                             "size": len(upload[2])}
        if settings["delay"]:
            time.sleep(settings["delay"])
        if failing:
            status = settings["fail_status"]
            headers = {}
            if settings["retry_after"] is not None:
                headers["Retry-After"] = str(settings["retry_after"])
            if status == 429 and settings["quota_exhausted"]:
                return self.send_error_body(
                    429, "You exceeded your current quota, please check your plan and billing "
                    "details.", "insufficient_quota", code="insufficient_quota", headers=headers)
            if status == 429:
                return self.send_error_body(
                    429, "Rate limit reached for whisper-1 in organization org-standin on "
                    "requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests",
                    code="rate_limit_exceeded", headers=headers)
            return self.send_error_body(
                status, "The server had an error while processing your request. Sorry about "
                "that!", "server_error", headers=headers)
        model = (fields.get("model") or [""])[0]
        if not model:
            return self.send_error_body(400, "you must provide a model parameter",
                                        "invalid_request_error")
        if model not in MODELS:
            return self.send_error_body(400, "The model `%s` does not exist or you do not have "
                                        "access to it." % model, "invalid_request_error",
                                        param="model", code="model_not_found")
        if upload is None:
            return self.send_error_body(400, "1 validation error for Request\nbody -> file\n "
                                        "field required (type=value_error.missing)",
                                        "invalid_request_error")
        filename, _, data = upload
        if len(data) > settings["max_bytes"]:
            return self.send_error_body(
                413, "Maximum content size limit (%d) exceeded (%d bytes read)"
                % (settings["max_bytes"], len(data)), "server_error")
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if ext not in ACCEPTED_EXTENSIONS:
            return self.send_error_body(
                400, "Invalid file format. Supported formats: %s" % ACCEPTED_EXTENSIONS,
                "invalid_request_error", param="file")
        fmt = (fields.get("response_format") or ["json"])[0]
        if fmt not in FORMATS:
            return self.send_error_body(400, "Invalid response_format '%s'." % fmt,
                                        "invalid_request_error", param="response_format")
        if fmt == "verbose_json" and model != "whisper-1":
            return self.send_error_body(
                400, "response_format 'verbose_json' is not compatible with model '%s'. Use "
                "'json' or 'text' instead." % model, "invalid_request_error",
                param="response_format", code="unsupported_value")
        duration = audio_duration(data, ext)
        entry["duration"] = duration
        if duration is None:
            return self.send_error_body(
                400, "The audio file could not be decoded or its format is not supported.",
                "invalid_request_error")
        language = (fields.get("language") or [""])[0]
        doc = make_transcript(duration, language_name(language),
                              float(settings["segment_seconds"]), float(settings["word_seconds"]),
                              settings["words"] or WORDS)
        ctype, text = render(doc, fmt, fields.get("timestamp_granularities[]", []))
        self.send_body(200, ctype, text)
        return 200

    # ---- chat completions --------------------------------------------------------------------

    def chat(self, state, body, entry):
        with state.lock:
            settings = dict(state.settings)
            failing = settings["chat_fail"] > 0
            if failing:
                state.settings["chat_fail"] -= 1
            garbage = settings["chat_garbage"] != 0
            if settings["chat_garbage"] > 0:
                state.settings["chat_garbage"] -= 1
        auth = self.headers.get("Authorization", "")
        if auth != "Bearer " + settings["api_key"]:
            return self.send_error_body(401, "Incorrect API key provided.",
                                        "invalid_request_error", code="invalid_api_key")
        try:
            req = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            return self.send_error_body(400, "We could not parse the JSON body of your request. "
                                        "(%s)" % e, "invalid_request_error")
        entry["json"] = req
        if not isinstance(req, dict) or not req.get("model"):
            return self.send_error_body(400, "you must provide a model parameter",
                                        "invalid_request_error", param="model")
        messages = req.get("messages")
        if (not isinstance(messages, list) or not messages or
                not all(isinstance(m, dict) and m.get("role") in ("system", "user", "assistant",
                                                                  "developer")
                        and isinstance(m.get("content"), str) for m in messages)):
            return self.send_error_body(400, "Invalid value for 'messages'.",
                                        "invalid_request_error", param="messages")
        fmt = req.get("response_format") or {"type": "text"}
        ftype = fmt.get("type") if isinstance(fmt, dict) else None
        if ftype not in ("text", "json_object", "json_schema"):
            return self.send_error_body(400, "Invalid value for 'response_format.type'.",
                                        "invalid_request_error", param="response_format.type")
        if ftype == "json_schema":
            if settings["no_json_schema"]:
                return self.send_error_body(
                    400, "'response_format.type' json_schema is not supported by this model.",
                    "invalid_request_error", param="response_format")
            js = fmt.get("json_schema")
            if not isinstance(js, dict) or not js.get("name") or not isinstance(
                    js.get("schema"), dict):
                return self.send_error_body(400, "Missing required parameter: "
                                            "'response_format.json_schema'.",
                                            "invalid_request_error",
                                            param="response_format.json_schema")
        if ftype == "json_object" and not any("json" in m["content"].lower() for m in messages):
            return self.send_error_body(400, "'messages' must contain the word 'json' in some "
                                        "form, to use 'response_format' of type 'json_object'.",
                                        "invalid_request_error", param="messages")
        if failing:
            return self.send_error_body(
                settings["fail_status"], "The server had an error while processing your "
                "request. Sorry about that!", "server_error")
        user = [m["content"] for m in messages if m["role"] == "user"][-1]
        if garbage:
            content = '{"summary": [{"text": "Le client'  # cut JSON, as a broken model writes
        else:
            content = json.dumps(summarise(user), ensure_ascii=False)
        answer = {
            "id": "chatcmpl-%d" % int(time.time() * 1e6), "object": "chat.completion",
            "created": int(time.time()), "model": req["model"], "system_fingerprint": "fp_stand_in",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(user) // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": (len(user) + len(content)) // 4},
        }
        self.send_body(200, "application/json", json.dumps(answer, ensure_ascii=False))
        return 200


DECISION_WORDS = ("décidé", "convenu", "validé", "on retient", "décision")
ACTION_WORDS = ("il faut", "je vous envoie", "pourriez", "nous allons", "je m'engage", "action")


def summarise(user):
    """A report in the requested shape, citing the references of `user`'s lines."""
    lines = []  # (reference, speaker or item kind, text)
    for raw in user.split("\n"):
        if not raw.startswith("[S"):
            continue
        head, _, rest = raw.partition("]")
        ref = head[1:].split(" ")[0]
        who, sep, text = rest.strip().partition(" : ")
        if not sep:
            who, text = "", rest.strip()
        lines.append((ref, who.strip(), text.strip()))
    if not lines:
        return {"summary": [], "decisions": [], "actions": [], "excerpts": []}
    # A merge request lists partial items ("[S12] résumé : ..."): the summary keeps those.
    points = [l for l in lines if l[1] == "résumé"] or lines
    summary = [{"text": t or "Échange", "segment": r} for r, _, t in points[:3]]
    decisions = [{"text": t, "segment": r} for r, w, t in lines
                 if w == "décision" or any(x in t.lower() for x in DECISION_WORDS)]
    actions = []
    for r, w, t in lines:
        if w == "action" or any(x in t.lower() for x in ACTION_WORDS):
            who = ""
            if w == "action" and "(qui : " in t:  # a merge request's "what (qui : X ; ...)"
                t, _, rest = t.partition(" (qui : ")
                who = rest.split(" ;")[0].rstrip(")")
                who = "" if who == "?" else who
            elif w not in ("action", "?"):
                who = w
            actions.append({"who": who, "what": t, "due_date": None, "due_text": "",
                            "segment": r})
    excerpts = [{"segment": lines[0][0]}]
    if len(lines) > 1:
        excerpts.append({"segment": lines[-1][0]})
    return {"summary": summary, "decisions": decisions, "actions": actions, "excerpts": excerpts}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-key", default="sk-stand-in")
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=500)
    p.add_argument("--retry-after", type=float, default=None)
    p.add_argument("--quota-exhausted", action="store_true")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--max-bytes", type=int, default=26214400)
    p.add_argument("--segment-seconds", type=float, default=4.0)
    p.add_argument("--word-seconds", type=float, default=0.5)
    p.add_argument("--record", default=None)
    p.add_argument("--words", default=None)
    p.add_argument("--chat-fail", type=int, default=0)
    p.add_argument("--chat-garbage", type=int, default=0)
    p.add_argument("--no-json-schema", action="store_true")
    args = p.parse_args()
    if args.retry_after is not None and args.retry_after == int(args.retry_after):
        args.retry_after = int(args.retry_after)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("LISTENING http://127.0.0.1:%d/v1" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
