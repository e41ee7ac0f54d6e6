#!/usr/bin/python3
"""Plain numpy implementation of Whisper's forward pass, the test oracle of the native engine.

Written from the architecture's public description (the Whisper paper and the reference
implementation's documented behaviour), sharing no code with the engine: its own ggml reader and
dequantisers, log-mel spectrogram with numpy's FFT, encoder, decoder recomputed from scratch at
every step (no cache), and greedy decoding with Whisper's logit rules (blank and token
suppression, timestamp pairing and ordering, max initial timestamp, timestamp-probability rule).

Usage (system Python, which has numpy):
  /usr/bin/python3 whisper_ref.py --model M.bin --audio pcm.f32 --out DIR
      [--seek FRAMES] [--language en] [--steps 24] [--suppress 1,2,...] [--prompt 1,2,...]
With --mel-only, only the spectrogram (the model file may then hold no tensors).
Writes DIR/mel.f32 ([n_mels][3000]), DIR/encoder.f32 ([1500][n_state]), DIR/logits.f32 (raw
logits of each greedy step, [steps][n_vocab]) and DIR/result.json (tokens, initial tokens,
no-speech probability, sum of log-probabilities, global mel maximum).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

LANGUAGES = ("en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu "
             "ta no th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn "
             "bs kk sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn "
             "mt sa lb my bo tl mg as tt haw ln ha ba jw su yue").split()

# ggml tensor types: bytes per block of 32 (or per element for f32/f16)
BLOCK = {2: 18, 3: 20, 6: 22, 7: 24, 8: 34}


# Tensor types by name, and whether products with q8_0 weights quantize their input rows the way
# ggml's q8_0 x q8_0 dot products (and the engine's int8 path) do: per row and block of 32, scale
# max|x| / 127 in f32, round to nearest even. Only rows the engine computes in one product of more
# than 8 rows take that path (the encoder, the audio keys/values, a long initial prompt).
TYPES = {}
INT8 = {"on": False}
INT8_MIN_ROWS = 9


def quantize_rows(x):
    x = np.asarray(x, dtype=np.float32)
    r, k = x.shape
    b = x.reshape(r, k // 32, 32)
    d = (np.abs(b).max(axis=-1) / np.float32(127)).astype(np.float32)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, np.float32(1)), np.float32(0))
    q = np.rint((b * inv[..., None].astype(np.float32)).astype(np.float32))
    return (q.astype(np.float64) * d[..., None].astype(np.float64)).reshape(r, k)


def lin(W, name, x, qrows):
    """x @ W[name].T, the first `qrows` rows of x quantized as the int8 path does."""
    w = W[name]
    if INT8["on"] and TYPES.get(name) == 8 and qrows >= INT8_MIN_ROWS and x.shape[1] % 32 == 0:
        q = np.asarray(x, dtype=np.float64).copy()
        q[:qrows] = quantize_rows(x[:qrows])
        return (q @ w.T.astype(np.float64)).astype(np.float32)
    return x @ w.T


def dequantize(raw, ttype, shape):
    count = int(np.prod(shape))
    if ttype == 0:
        return np.frombuffer(raw, dtype="<f4", count=count).reshape(shape)
    if ttype == 1:
        return np.frombuffer(raw, dtype="<f2", count=count).astype(np.float32).reshape(shape)
    nb = count // 32
    b = np.frombuffer(raw, dtype=np.uint8, count=nb * BLOCK[ttype]).reshape(nb, BLOCK[ttype])
    d = b[:, 0:2].copy().view("<f2").astype(np.float32)[:, 0]
    if ttype == 8:  # q8_0
        q = b[:, 2:34].copy().view(np.int8).astype(np.float32)
        return (q * d[:, None]).reshape(shape)
    if ttype in (3, 7):
        m = b[:, 2:4].copy().view("<f2").astype(np.float32)[:, 0]
    if ttype in (6, 7):
        at = 2 if ttype == 6 else 4
        qh = b[:, at:at + 4].copy().view("<u4")[:, 0]
        qs = b[:, at + 4:at + 20]
        high = ((qh[:, None] >> np.arange(32, dtype=np.uint32)[None, :]) & 1).astype(np.int32)
    else:
        qs = b[:, 2:18] if ttype == 2 else b[:, 4:20]
        high = np.zeros((nb, 32), dtype=np.int32)
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32) + 16 * high
    if ttype == 2:
        vals = (q - 8) * d[:, None]
    elif ttype == 6:
        vals = (q - 16) * d[:, None]
    else:
        vals = q * d[:, None] + m[:, None]
    return vals.astype(np.float32).reshape(shape)


def read_model(path):
    data = open(path, "rb").read()
    assert struct.unpack_from("<I", data, 0)[0] == 0x67676D6C, "bad magic"
    keys = ("n_vocab n_audio_ctx n_audio_state n_audio_head n_audio_layer n_text_ctx "
            "n_text_state n_text_head n_text_layer n_mels ftype").split()
    hp = dict(zip(keys, struct.unpack_from("<11i", data, 4)))
    off = 48
    n_mel, n_fft = struct.unpack_from("<2i", data, off)
    off += 8
    filters = np.frombuffer(data, dtype="<f4", count=n_mel * n_fft, offset=off)
    filters = filters.reshape(n_mel, n_fft).astype(np.float64)
    off += 4 * n_mel * n_fft
    n_words, = struct.unpack_from("<i", data, off)
    off += 4
    for _ in range(n_words):
        length, = struct.unpack_from("<I", data, off)
        off += 4 + length
    weights = {}
    while off < len(data):
        n_dims, name_len, ttype = struct.unpack_from("<3i", data, off)
        off += 12
        ne = struct.unpack_from(f"<{n_dims}i", data, off)
        off += 4 * n_dims
        name = data[off:off + name_len].decode()
        off += name_len
        shape = tuple(reversed(ne))
        count = int(np.prod(shape))
        size = count * 4 if ttype == 0 else count * 2 if ttype == 1 else count // 32 * BLOCK[ttype]
        weights[name] = dequantize(data[off:off + size], ttype, shape).astype(np.float32)
        TYPES[name] = ttype
        off += size
    return hp, filters, weights


def log_mel(audio, filters):
    """Whisper's log-mel of `audio` followed by 30 s of zeros; returns (log10 mel, its max)."""
    x = np.concatenate([audio.astype(np.float64), np.zeros(480000)])
    x = np.pad(x, 200, mode="reflect")
    n_frames = 1 + (len(x) - 400) // 160
    idx = np.arange(400)[None, :] + 160 * np.arange(n_frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
    spec = np.fft.rfft(x[idx] * window, axis=1)
    power = (np.abs(spec) ** 2)[:-1]  # the last frame is dropped
    mel = filters @ power.T
    logm = np.log10(np.maximum(mel, 1e-10))
    return logm, logm.max()


def erf(x):
    # Abramowitz & Stegun 7.1.26 refined: |error| < 1.5e-7
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return s * y


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def layer_norm(x, w, b):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w + b


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def keys_values(W, p, xa, qrows):
    return (lin(W, p + ".key.weight", xa, qrows),
            lin(W, p + ".value.weight", xa, qrows) + W[p + ".value.bias"])


def attention(W, p, x, xa, heads, causal, qrows, kv=None):
    q = lin(W, p + ".query.weight", x, qrows) + W[p + ".query.bias"]
    k, v = kv if kv is not None else keys_values(W, p, xa, qrows)
    n = q.shape[-1]
    dh = n // heads
    scale = dh ** -0.25
    q = (q * scale).reshape(q.shape[0], heads, dh).transpose(1, 0, 2)
    k = (k * scale).reshape(k.shape[0], heads, dh).transpose(1, 2, 0)
    v = v.reshape(v.shape[0], heads, dh).transpose(1, 0, 2)
    s = q @ k
    if causal:
        t = s.shape[-1]
        s = s + np.triu(np.full((t, t), -np.inf, dtype=np.float32), 1)
    out = (softmax(s) @ v).transpose(1, 0, 2).reshape(-1, n)
    return lin(W, p + ".out.weight", out, qrows) + W[p + ".out.bias"]


def mlp(W, p, x, qrows):
    h = gelu(lin(W, p + ".mlp.0.weight", x, qrows) + W[p + ".mlp.0.bias"])
    return lin(W, p + ".mlp.2.weight", h, qrows) + W[p + ".mlp.2.bias"]


def conv1d(x, w, b, stride):
    # x [in, T], w [out, in, 3], padding 1
    xp = np.pad(x, ((0, 0), (1, 1)))
    t_out = (x.shape[1] + 2 - 3) // stride + 1
    cols = np.stack([xp[:, k:k + stride * (t_out - 1) + 1:stride] for k in range(3)], axis=-1)
    cols = cols.transpose(1, 0, 2).reshape(t_out, -1)  # [T, in*3]
    return (cols @ w.reshape(w.shape[0], -1).T + b.reshape(1, -1)).T


def encoder(hp, W, mel):
    x = gelu(conv1d(mel, W["encoder.conv1.weight"], W["encoder.conv1.bias"], 1))
    x = gelu(conv1d(x, W["encoder.conv2.weight"], W["encoder.conv2.bias"], 2))
    x = x.T + W["encoder.positional_embedding"]
    for i in range(hp["n_audio_layer"]):
        p = f"encoder.blocks.{i}"
        h = layer_norm(x, W[p + ".attn_ln.weight"], W[p + ".attn_ln.bias"])
        rows = x.shape[0]
        x = x + attention(W, p + ".attn", h, h, hp["n_audio_head"], False, rows)
        x = x + mlp(W, p, layer_norm(x, W[p + ".mlp_ln.weight"], W[p + ".mlp_ln.bias"]), rows)
    return layer_norm(x, W["encoder.ln_post.weight"], W["encoder.ln_post.bias"])


def decoder(hp, W, tokens, xa, rows, cross_kv, qrows):
    emb = W["decoder.token_embedding.weight"]
    x = emb[tokens] + W["decoder.positional_embedding"][:len(tokens)]
    for i in range(hp["n_text_layer"]):
        p = f"decoder.blocks.{i}"
        h = layer_norm(x, W[p + ".attn_ln.weight"], W[p + ".attn_ln.bias"])
        x = x + attention(W, p + ".attn", h, h, hp["n_text_head"], True, qrows)
        h = layer_norm(x, W[p + ".cross_attn_ln.weight"], W[p + ".cross_attn_ln.bias"])
        x = x + attention(W, p + ".cross_attn", h, xa, hp["n_text_head"], False, qrows, cross_kv[i])
        x = x + mlp(W, p, layer_norm(x, W[p + ".mlp_ln.weight"], W[p + ".mlp_ln.bias"]), qrows)
    x = layer_norm(x[rows], W["decoder.ln.weight"], W["decoder.ln.bias"])
    return x @ emb.T  # logits of the asked rows only


def special_tokens(n_vocab):
    multilingual = n_vocab >= 51865
    n_lang = n_vocab - 51765 - 1 if multilingual else 0
    eot = 50257 if multilingual else 50256
    shift = n_lang - 98 if multilingual else 0
    return dict(eot=eot, sot=eot + 1, translate=50357 + shift, transcribe=50358 + shift,
                sot_prev=50360 + shift,
                no_speech=50361 + shift, no_timestamps=50362 + shift,
                timestamp_begin=50363 + shift, multilingual=multilingual)


def log_softmax(x):
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


def filter_logits(logits, sampled, sp, suppress, n_vocab, without_timestamps=False):
    tb, eot = sp["timestamp_begin"], sp["eot"]
    if not sampled:  # suppress blank: " " (token 220) and end of text at the start
        logits[220] = -np.inf
        logits[eot] = -np.inf
    logits[suppress] = -np.inf
    if without_timestamps:  # plain text after <|notimestamps|>: no timestamp token at all
        logits[sp["no_timestamps"]:] = -np.inf
        return logits
    logits[sp["no_timestamps"]] = -np.inf
    last = len(sampled) >= 1 and sampled[-1] >= tb
    penult = len(sampled) < 2 or sampled[-2] >= tb
    if last:
        if penult:
            logits[tb:] = -np.inf
        else:
            logits[:eot] = -np.inf
    stamps = [t for t in sampled if t >= tb]
    if stamps:
        floor = stamps[-1] if (last and not penult) else stamps[-1] + 1
        logits[tb:floor] = -np.inf
    if not sampled:
        logits[:tb] = -np.inf
        logits[tb + 50 + 1:] = -np.inf  # max initial timestamp 1.0 s
    lp = log_softmax(logits.astype(np.float64))
    ts = lp[tb:]
    ts_total = ts.max() + np.log(np.exp(ts - ts.max()).sum()) if np.isfinite(ts.max()) else -np.inf
    if ts_total > lp[:tb].max():
        logits[:tb] = -np.inf
    return logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--audio", required=True, help="raw float32 16 kHz mono samples")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seek", type=int, default=0)
    ap.add_argument("--language", default="en")
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--suppress", default="")
    ap.add_argument("--prompt", default="")
    ap.add_argument("--no-timestamps", action="store_true",
                    help="decode plain text after <|notimestamps|>")
    ap.add_argument("--mel-only", action="store_true", help="stop after the spectrogram")
    ap.add_argument("--int8-activations", action="store_true",
                    help="quantize the input rows of q8_0 products of more than 8 rows (ggml, "
                         "the engine's AVX-512 VNNI path)")
    args = ap.parse_args()
    INT8["on"] = args.int8_activations

    hp, filters, W = read_model(args.model)
    audio = np.fromfile(args.audio, dtype="<f4")
    logm, gmax = log_mel(audio, filters)
    mel = logm[:, args.seek:args.seek + 3000]
    if mel.shape[1] < 3000:
        mel = np.pad(mel, ((0, 0), (0, 3000 - mel.shape[1])), constant_values=-np.inf)
    mel = (np.maximum(mel, gmax - 8.0) + 4.0) / 4.0
    mel = np.where(np.isfinite(mel), mel, 0.0).astype(np.float32)
    os.makedirs(args.out, exist_ok=True)
    if args.mel_only:
        mel.astype("<f4").tofile(os.path.join(args.out, "mel.f32"))
        with open(os.path.join(args.out, "result.json"), "w") as f:
            json.dump({"mel_max": float(gmax)}, f)
        return 0
    xa = encoder(hp, W, mel).astype(np.float32)

    sp = special_tokens(hp["n_vocab"])
    initial = []
    prompt = [int(t) for t in args.prompt.split(",") if t]
    if prompt:
        initial = [sp["sot_prev"]]
        initial += prompt[-(hp["n_text_ctx"] // 2 - 1):]
    sot_index = len(initial)
    initial.append(sp["sot"])
    if sp["multilingual"]:
        initial += [sp["sot"] + 1 + LANGUAGES.index(args.language), sp["transcribe"]]
    if args.no_timestamps:
        initial.append(sp["no_timestamps"])
    suppress = [int(t) for t in args.suppress.split(",") if t]

    tokens = list(initial)
    # The audio keys/values of cross-attention depend on the audio only: computed once.
    cross_kv = [keys_values(W, f"decoder.blocks.{i}.cross_attn", xa, xa.shape[0])
                for i in range(hp["n_text_layer"])]
    # The engine runs the initial tokens in one forward pass, then one token per step: only the
    # initial rows can be in a product of more than 8 rows.
    initial_rows = len(initial)
    sampled, step_logits = [], []
    sum_logprob, no_speech = 0.0, None
    for step in range(args.steps):
        logits = decoder(hp, W, np.array(tokens), xa, [sot_index, len(tokens) - 1], cross_kv,
                         initial_rows)
        if step == 0:
            no_speech = float(np.exp(log_softmax(logits[0].astype(np.float64))
                                     [sp["no_speech"]]))
        last = logits[-1].astype(np.float32).copy()
        step_logits.append(last.copy())
        filtered = filter_logits(last, sampled, sp, suppress, hp["n_vocab"], args.no_timestamps)
        token = int(np.argmax(filtered))
        sum_logprob += float(log_softmax(filtered.astype(np.float64))[token])
        sampled.append(token)
        tokens.append(token)
        if token == sp["eot"]:
            break

    os.makedirs(args.out, exist_ok=True)
    mel.astype("<f4").tofile(os.path.join(args.out, "mel.f32"))
    xa.astype("<f4").tofile(os.path.join(args.out, "encoder.f32"))
    np.array(step_logits, dtype="<f4").tofile(os.path.join(args.out, "logits.f32"))
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump({"initial": initial, "tokens": sampled, "no_speech_prob": no_speech,
                   "sum_logprob": sum_logprob, "mel_max": float(gmax)}, f)


if __name__ == "__main__":
    sys.exit(main())
