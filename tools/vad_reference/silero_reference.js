#!/usr/bin/env node
// Reference speech probabilities of Silero VAD v5, computed by onnxruntime-node (an independent
// ONNX runtime), for checking crm-ai's native implementation.
//
// usage: node silero_reference.js MODEL.onnx AUDIO [--sr 16000|8000]
//   AUDIO is a mono WAV file (16-bit PCM or 32-bit float) or raw little-endian float32 samples (".f32").
// Prints {"sample_rate": SR, "frame_samples": N, "inference_seconds": S,
// "inference_cpu_seconds": C, "probabilities": [...]} on stdout (S and C: wall-clock and
// process CPU time spent in the runtime's session.run loop, one intra-op thread).
//
// The audio is cut into frames of 512 samples (256 at 8 kHz); the last one is completed with
// zeros. Each step feeds the previous 64 samples (32 at 8 kHz; zeros before the first frame) as
// context followed by the frame, with the LSTM state carried from step to step, as the model's
// own streaming wrapper does.
'use strict';

const fs = require('fs');
const path = require('path');

function loadRuntime() {
  const here = path.resolve(__dirname, '..', 'node', 'node_modules', 'onnxruntime-node');
  return require(here);
}

function readWav(buf) {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let pos = 12;
  let fmt = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      const pcm16 = fmt && fmt.format === 1 && fmt.bits === 16;
      const float32 = fmt && fmt.format === 3 && fmt.bits === 32;
      if (!fmt || fmt.channels !== 1 || !(pcm16 || float32)) {
        throw new Error('only mono 16-bit PCM or 32-bit float WAV is supported');
      }
      const width = pcm16 ? 2 : 4;
      const n = Math.floor(Math.min(size, buf.length - body) / width);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = pcm16 ? buf.readInt16LE(body + 2 * i) / 32768 : buf.readFloatLE(body + 4 * i);
      }
      return { rate: fmt.rate, samples: out };
    }
    pos = body + size + (size & 1);
  }
  throw new Error('no data chunk');
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 2) {
    process.stderr.write('usage: node silero_reference.js MODEL.onnx AUDIO [--sr 16000|8000]\n');
    process.exit(2);
  }
  const [modelPath, audioPath] = args;
  let sr = 16000;
  const srIndex = args.indexOf('--sr');
  if (srIndex >= 0) sr = parseInt(args[srIndex + 1], 10);

  const buf = fs.readFileSync(audioPath);
  let samples;
  if (audioPath.endsWith('.f32')) {
    samples = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  } else {
    const wav = readWav(buf);
    if (srIndex < 0) sr = wav.rate;
    samples = wav.samples;
  }
  if (sr !== 16000 && sr !== 8000) throw new Error(`unsupported sample rate ${sr}`);

  const ort = loadRuntime();
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const frame = sr === 16000 ? 512 : 256;
  const context = sr === 16000 ? 64 : 32;
  let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const srTensor = new ort.Tensor('int64', BigInt64Array.from([BigInt(sr)]), []);
  const input = new Float32Array(context + frame);
  const probabilities = [];
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  for (let start = 0; start < samples.length; start += frame) {
    // context: the last `context` samples of the previous step's input
    input.copyWithin(0, frame, frame + context);
    if (start === 0) input.fill(0, 0, context);
    const chunk = samples.subarray(start, Math.min(start + frame, samples.length));
    input.fill(0, context);
    input.set(chunk, context);
    const feeds = {
      input: new ort.Tensor('float32', Float32Array.from(input), [1, context + frame]),
      state,
      sr: srTensor,
    };
    const out = await session.run(feeds);
    probabilities.push(out.output.data[0]);
    state = out.stateN;
  }
  const inferenceSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStarted);
  process.stdout.write(JSON.stringify({
    sample_rate: sr,
    frame_samples: frame,
    inference_seconds: inferenceSeconds,
    inference_cpu_seconds: (cpu.user + cpu.system) / 1e6,
    probabilities,
  }));
  process.stdout.write('\n');
}

main().catch((e) => {
  process.stderr.write(`silero_reference: ${e.message}\n`);
  process.exit(1);
});
