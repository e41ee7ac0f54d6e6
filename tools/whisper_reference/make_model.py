#!/usr/bin/python3
"""Writes a Whisper model file in the ggml format (the one whisper.cpp reads) with random
weights, in the real shapes of a model size, so the engine can be tested and measured where no
trained weights can be had.

The header's mel filterbank and vocabulary are copied from an existing ggml file (the test
fixture tests/data/asr/for-tests-ggml-tiny.bin holds the real ones, without tensors). Tensor
names, order, shapes and per-tensor types follow whisper.cpp's converter and quantizer:
positional embeddings, conv biases and all vectors f32; conv kernels f16 unless the file is f32;
the other matrices in the chosen type. The large-v3-turbo layout has 128 mel bins (its
filterbank is computed here with librosa's Slaney formula, which Whisper's filters come from)
and 100 languages; the fixture's vocabulary serves it.

Run with the system Python (it needs numpy):
  /usr/bin/python3 make_model.py --vocab-from FIXTURE --layout tiny --type f16 --out model.bin
"""
import argparse
import struct
import sys

import numpy as np

LAYOUTS = {
    # n_audio_state, n_audio_head, n_audio_layer, n_text_state, n_text_head, n_text_layer
    "tiny": (384, 6, 4, 384, 6, 4),
    "base": (512, 8, 6, 512, 8, 6),
    "small": (768, 12, 12, 768, 12, 12),
    "large-v3-turbo": (1280, 20, 32, 1280, 20, 4),
}
# Layouts whose files differ from the fixture's header: 128 mel bins and 100 languages.
MELS_AND_VOCAB = {"large-v3-turbo": (128, 51866)}
TYPES = {"f32": (0, 0), "f16": (1, 1), "q4_0": (2, 2), "q4_1": (3, 3), "q5_0": (8, 6),
         "q5_1": (9, 7), "q8_0": (7, 8)}  # name -> (file ftype, tensor type)


def read_header(path):
    data = open(path, "rb").read()
    magic, = struct.unpack_from("<I", data, 0)
    if magic != 0x67676D6C:
        sys.exit(f"{path}: not a ggml model file")
    hp = list(struct.unpack_from("<11i", data, 4))
    off = 48
    n_mel, n_fft = struct.unpack_from("<2i", data, off)
    off += 8 + 4 * n_mel * n_fft
    filters = data[48:off]
    n_words, = struct.unpack_from("<i", data, off)
    start = off
    off += 4
    for _ in range(n_words):
        length, = struct.unpack_from("<I", data, off)
        off += 4 + length
    return hp, filters, data[start:off]


def mel_filters(n_mels, sample_rate=16000, n_fft=400):
    """Slaney-style mel filterbank (librosa's default, which Whisper's filter files come from)."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz)
                        / logstep, f / f_sp)

    def mel_to_hz(m):
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)),
                        f_sp * m)

    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2))
    fdiff = np.diff(hz)
    ramps = hz[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper)) * (2.0 / (hz[2:] - hz[:-2]))[:, None]
    return struct.pack("<2i", n_mels, n_fft // 2 + 1) + weights.astype("<f4").tobytes()


def f16_bytes(x):
    return np.asarray(x, dtype=np.float16).tobytes()


def quantize(x, kind):
    """ggml's reference quantizers, row-major blocks of 32."""
    b = x.reshape(-1, 32).astype(np.float32)
    n = b.shape[0]
    if kind == "q8_0":
        amax = np.abs(b).max(axis=1)
        d = amax / 127.0
        inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0).astype(np.float32)
        q = np.round(b * inv[:, None]).astype(np.int8)
        out = np.zeros(n, dtype=[("d", "<f2"), ("q", "i1", 32)])
        out["d"], out["q"] = d, q
        return out.tobytes()
    if kind in ("q4_0", "q5_0"):
        levels = 8 if kind == "q4_0" else 16
        idx = np.abs(b).argmax(axis=1)
        mx = b[np.arange(n), idx]
        d = (mx / -levels).astype(np.float32)
        inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
        q = np.minimum(2 * levels - 1, np.trunc(b * inv[:, None] + levels + 0.5)).astype(np.uint8)
    else:  # q4_1, q5_1
        levels = 15 if kind == "q4_1" else 31
        lo, hi = b.min(axis=1), b.max(axis=1)
        d = ((hi - lo) / levels).astype(np.float32)
        inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
        q = np.minimum(levels, np.trunc((b - lo[:, None]) * inv[:, None] + 0.5)).astype(np.uint8)
    qs = (q[:, :16] & 0x0F) | ((q[:, 16:] & 0x0F) << 4)
    if kind == "q4_0":
        out = np.zeros(n, dtype=[("d", "<f2"), ("qs", "u1", 16)])
        out["d"], out["qs"] = d, qs
    elif kind == "q4_1":
        out = np.zeros(n, dtype=[("d", "<f2"), ("m", "<f2"), ("qs", "u1", 16)])
        out["d"], out["m"], out["qs"] = d, lo, qs
    else:
        bits = ((q >> 4) & 1).astype(np.uint32)
        qh = (bits << np.arange(32, dtype=np.uint32)).sum(axis=1).astype(np.uint32)
        if kind == "q5_0":
            out = np.zeros(n, dtype=[("d", "<f2"), ("qh", "<u4"), ("qs", "u1", 16)])
            out["d"], out["qh"], out["qs"] = d, qh, qs
        else:
            out = np.zeros(n, dtype=[("d", "<f2"), ("m", "<f2"), ("qh", "<u4"), ("qs", "u1", 16)])
            out["d"], out["m"], out["qh"], out["qs"] = d, lo, qh, qs
    return out.tobytes()


def sinusoids(length, channels):
    scale = np.log(10000) / (channels // 2 - 1)
    inv = np.exp(-scale * np.arange(channels // 2))
    t = np.arange(length)[:, None] * inv[None, :]
    return np.concatenate([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


def tensors(hp, rng):
    """Yields (name, array in numpy order, kind) with kind in vector/matrix/conv/position."""
    n_vocab, n_audio_ctx, na, _, n_al, n_text_ctx, nt, _, n_tl, n_mels, _ = hp

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols), dtype=np.float32) / np.sqrt(cols)).astype(
            np.float32)

    def vec(n, scale=0.02, center=0.0):
        return (center + scale * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)

    def block(prefix, n, cross):
        yield prefix + ".mlp_ln.weight", vec(n, 0.1, 1.0), "vector"
        yield prefix + ".mlp_ln.bias", vec(n, 0.1), "vector"
        yield prefix + ".mlp.0.weight", mat(4 * n, n), "matrix"
        yield prefix + ".mlp.0.bias", vec(4 * n), "vector"
        yield prefix + ".mlp.2.weight", mat(n, 4 * n), "matrix"
        yield prefix + ".mlp.2.bias", vec(n), "vector"
        for att in ["attn"] + (["cross_attn"] if cross else []):
            yield f"{prefix}.{att}_ln.weight", vec(n, 0.1, 1.0), "vector"
            yield f"{prefix}.{att}_ln.bias", vec(n, 0.1), "vector"
            yield f"{prefix}.{att}.query.weight", mat(n, n), "matrix"
            yield f"{prefix}.{att}.query.bias", vec(n), "vector"
            yield f"{prefix}.{att}.key.weight", mat(n, n), "matrix"
            yield f"{prefix}.{att}.value.weight", mat(n, n), "matrix"
            yield f"{prefix}.{att}.value.bias", vec(n), "vector"
            yield f"{prefix}.{att}.out.weight", mat(n, n), "matrix"
            yield f"{prefix}.{att}.out.bias", vec(n), "vector"

    yield "encoder.positional_embedding", sinusoids(n_audio_ctx, na), "position"
    conv1 = rng.standard_normal((na, n_mels, 3), dtype=np.float32) / np.sqrt(3 * n_mels)
    yield "encoder.conv1.weight", conv1.astype(np.float32), "conv"
    yield "encoder.conv1.bias", vec(na).reshape(na, 1), "position"
    conv2 = rng.standard_normal((na, na, 3), dtype=np.float32) / np.sqrt(3 * na)
    yield "encoder.conv2.weight", conv2.astype(np.float32), "conv"
    yield "encoder.conv2.bias", vec(na).reshape(na, 1), "position"
    for i in range(n_al):
        yield from block(f"encoder.blocks.{i}", na, False)
    yield "encoder.ln_post.weight", vec(na, 0.1, 1.0), "vector"
    yield "encoder.ln_post.bias", vec(na, 0.1), "vector"
    yield "decoder.positional_embedding", vec(n_text_ctx * nt, 0.1).reshape(n_text_ctx, nt), \
        "position"
    emb = rng.standard_normal((n_vocab, nt), dtype=np.float32) * 0.1
    yield "decoder.token_embedding.weight", emb, "matrix"
    for i in range(n_tl):
        yield from block(f"decoder.blocks.{i}", nt, True)
    yield "decoder.ln.weight", vec(nt, 0.1, 1.0), "vector"
    yield "decoder.ln.bias", vec(nt, 0.1), "vector"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab-from", required=True, help="ggml file to copy filters/vocab from")
    ap.add_argument("--layout", default="tiny", choices=sorted(LAYOUTS))
    ap.add_argument("--type", default="f16", choices=sorted(TYPES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    hp, filters, vocab = read_header(args.vocab_from)
    na, nah, nal, nt, nth, ntl = LAYOUTS[args.layout]
    ftype, ttype = TYPES[args.type]
    hp = [hp[0], 1500, na, nah, nal, 448, nt, nth, ntl, hp[9], ftype]
    if args.layout in MELS_AND_VOCAB:
        hp[9], hp[0] = MELS_AND_VOCAB[args.layout]
        filters = mel_filters(hp[9])
    rng = np.random.default_rng(args.seed)
    with open(args.out, "wb") as f:
        f.write(struct.pack("<I", 0x67676D6C))
        f.write(struct.pack("<11i", *hp))
        f.write(filters)
        f.write(vocab)
        for name, arr, kind in tensors(hp, rng):
            if kind in ("vector", "position") or args.type == "f32":
                t, data = 0, arr.astype(np.float32).tobytes()
            elif kind == "conv" or args.type == "f16":
                t, data = 1, f16_bytes(arr)
            else:
                t, data = ttype, quantize(arr, args.type)
            ne = list(reversed(arr.shape))
            raw = name.encode()
            f.write(struct.pack(f"<3i{len(ne)}i", len(ne), len(raw), t, *ne))
            f.write(raw)
            f.write(data)


if __name__ == "__main__":
    main()
