#include "asr/whisper/transcriber.h"

#include <algorithm>
#include <cmath>

#include "asr/whisper/alignment.h"
#include "common/log.h"

namespace crm::asr::whisper {
namespace {

constexpr double kSecondsPerFrame = static_cast<double>(kHop) / kSampleRate;  // 0.01
constexpr double kTimePrecision = 0.02;

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// First mel frame at or after `frame` that a speech region covers; -1 when none is left.
int64_t NextSpeechFrame(const std::vector<SpeechRegion>& speech, int64_t frame) {
  const double t = frame * kSecondsPerFrame;
  for (const SpeechRegion& r : speech) {
    if (r.end <= t) continue;
    if (r.start <= t) return frame;
    return static_cast<int64_t>(std::floor(r.start / kSecondsPerFrame));
  }
  return -1;
}

}  // namespace

int ThreadsPerJob(int cores, int jobs) {
  if (cores < 1) cores = 1;
  if (jobs < 1) jobs = 1;
  return std::max(1, cores / jobs);
}

Transcriber::Transcriber(std::shared_ptr<const WhisperModel> model, kernels::ThreadPool* pool,
                         int max_sequences)
    : model_(std::move(model)),
      pool_(pool),
      encoder_(*model_),
      decoder_(*model_, std::max(1, max_sequences)),
      window_(*model_, &decoder_, pool) {}

DecodingResult Transcriber::DecodeWithFallback(const TranscribeOptions& o, DecodingOptions d) {
  DecodingResult result;
  const std::vector<float> temps =
      o.temperatures.empty() ? std::vector<float>{0.0f} : o.temperatures;
  for (size_t i = 0; i < temps.size(); ++i) {
    d.temperature = temps[i];
    d.seed = o.seed + static_cast<uint64_t>(windows_) * 7919 + i;
    result = window_.Decode(d);
    bool fallback = false;
    if (o.compression_ratio_threshold > 0 &&
        result.compression_ratio > o.compression_ratio_threshold)
      fallback = true;  // too repetitive
    if (!std::isnan(o.logprob_threshold) && result.avg_logprob < o.logprob_threshold)
      fallback = true;  // too unlikely
    if (!std::isnan(o.no_speech_threshold) && result.no_speech_prob > o.no_speech_threshold &&
        !std::isnan(o.logprob_threshold) && result.avg_logprob < o.logprob_threshold)
      fallback = false;  // silence: no better answer to look for
    if (!fallback) break;
  }
  return result;
}

Result<Transcript> Transcriber::Run(const float* pcm, size_t n, const TranscribeOptions& o,
                                    const ProgressSink& progress) {
  return Run(audio::MemorySampleSource(pcm, n, kSampleRate), o, progress);
}

Result<Transcript> Transcriber::Run(const audio::SampleSource& audio, const TranscribeOptions& o,
                                    const ProgressSink& progress) {
  const WhisperModel& m = *model_;
  if (audio.sample_rate() != kSampleRate)
    return InvalidArgument("audio must be sampled at " + std::to_string(kSampleRate) +
                           " Hz for Whisper, not " + std::to_string(audio.sample_rate()) + " Hz");
  const size_t n = audio.size();
  const Tokenizer& tok = m.tokenizer();
  windows_ = 0;
  if (std::max(o.beam_size, o.best_of) > decoder_.max_sequences())
    return InvalidArgument("beam size / best-of " +
                           std::to_string(std::max(o.beam_size, o.best_of)) + " exceeds the " +
                           std::to_string(decoder_.max_sequences()) +
                           " sequences this transcriber was made for");
  Transcript out;
  out.duration = static_cast<double>(n) / kSampleRate;

  // Language and task.
  int language_token = -1;
  std::string language = o.language;
  if (!tok.multilingual()) {
    if (!language.empty() && language != "auto" && language != "en")
      return InvalidArgument("the model is English-only; cannot transcribe language '" + language +
                             "'");
    language = "en";
  } else if (!language.empty() && language != "auto") {
    language_token = tok.LanguageToken(language);
    if (language_token < 0)
      return InvalidArgument("unknown language '" + language +
                             "' (expected an ISO 639-1 code "
                             "such as fr, en, de, or auto)");
  }

  const MelSpectrogram& mel = m.mel();
  const size_t pad = kChunkSamples;
  const int64_t content_frames = static_cast<int64_t>(n) / kHop;
  CRM_ASSIGN_OR_RETURN(const float global_max, mel.GlobalMax(audio, pad, progress));
  std::vector<float> window_mel;
  std::vector<float> window_samples;

  std::vector<int> all_tokens;
  size_t prompt_reset_since = 0;
  if (!o.initial_prompt.empty()) {
    all_tokens = tok.Encode(" " + Trim(o.initial_prompt));
  }

  int64_t seek = 0;
  const int input_stride = kChunkFrames / m.hparams().n_audio_ctx;  // 2
  while (seek < content_frames) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "transcription cancelled");
    progress.Report(static_cast<double>(seek) / content_frames);
    if (o.gate_with_speech) {
      const int64_t next = NextSpeechFrame(o.speech, seek);
      if (next < 0 || next >= content_frames) break;
      seek = next;
    }
    const double time_offset = seek * kSecondsPerFrame;
    const int64_t segment_size = std::min<int64_t>(kChunkFrames, content_frames - seek);
    CRM_TRY(mel.Window(audio, pad, seek, global_max, &window_mel, &window_samples));
    encoder_.Run(window_mel.data(), pool_);
    decoder_.SetAudio(encoder_.output(), pool_);
    ++windows_;

    if (language_token < 0 && tok.multilingual()) {
      language_token = window_.DetectLanguage();
      language = tok.LanguageCode(language_token);
      log::Info("detected language", {{"language", language}});
    }

    DecodingOptions d;
    d.translate = o.translate;
    d.language_token = language_token;
    d.beam_size = o.beam_size;
    d.patience = o.patience;
    d.best_of = o.best_of;
    d.without_timestamps = o.without_timestamps;
    d.max_initial_timestamp = o.max_initial_timestamp;
    d.suppress_blank = o.suppress_blank;
    d.suppress_non_speech = o.suppress_non_speech;
    d.sample_len = o.sample_len;
    d.stop_repetition_loops = o.stop_repetition_loops;
    d.prompt.assign(all_tokens.begin() + prompt_reset_since, all_tokens.end());
    DecodingResult r = DecodeWithFallback(o, d);

    if (!std::isnan(o.no_speech_threshold)) {
      bool skip = r.no_speech_prob > o.no_speech_threshold;
      if (!std::isnan(o.logprob_threshold) && r.avg_logprob > o.logprob_threshold) skip = false;
      if (skip) {
        seek += segment_size;
        continue;
      }
    }

    const std::vector<int>& tokens = r.tokens;
    std::vector<Segment> current;
    auto make_segment = [&](double start, double end, std::vector<int> seg_tokens) {
      Segment s;
      s.start = start;
      s.end = end;
      s.tokens = std::move(seg_tokens);
      s.text = tok.Decode(s.tokens);
      s.avg_logprob = r.avg_logprob;
      s.compression_ratio = r.compression_ratio;
      s.no_speech_prob = r.no_speech_prob;
      s.temperature = r.temperature;
      return s;
    };
    const int tb = tok.timestamp_begin();
    std::vector<size_t> consecutive;
    for (size_t i = 1; i < tokens.size(); ++i)
      if (tokens[i - 1] >= tb && tokens[i] >= tb) consecutive.push_back(i);
    const bool single_timestamp_ending =
        tokens.size() >= 2 && tokens[tokens.size() - 2] < tb && tokens.back() >= tb;
    const int64_t previous_seek = seek;
    if (!consecutive.empty()) {
      std::vector<size_t> slices = consecutive;
      if (single_timestamp_ending) slices.push_back(tokens.size());
      size_t last = 0;
      for (size_t cut : slices) {
        std::vector<int> sliced(tokens.begin() + last, tokens.begin() + cut);
        const double start = time_offset + (sliced.front() - tb) * kTimePrecision;
        const double end = time_offset + (sliced.back() - tb) * kTimePrecision;
        current.push_back(make_segment(start, end, std::move(sliced)));
        last = cut;
      }
      if (single_timestamp_ending) {
        seek += segment_size;
      } else {
        seek += static_cast<int64_t>(tokens[last - 1] - tb) * input_stride;
      }
    } else {
      double duration = segment_size * kSecondsPerFrame;
      int last_ts = -1;
      for (int t : tokens)
        if (t >= tb) last_ts = t;
      if (last_ts >= 0 && last_ts != tb) duration = (last_ts - tb) * kTimePrecision;
      current.push_back(make_segment(time_offset, time_offset + duration, tokens));
      seek += segment_size;
    }
    if (seek <= previous_seek) seek = previous_seek + segment_size;  // never stall

    for (Segment& s : current) {
      s.start = std::min(s.start, out.duration);
      s.end = std::clamp(s.end, s.start, out.duration);
      if (s.start == s.end || Trim(s.text).empty()) {
        s.text.clear();
        s.tokens.clear();
      }
    }
    if (o.word_timestamps) {
      std::vector<int> text_tokens;
      for (const Segment& s : current)
        for (int t : s.tokens)
          if (tok.IsText(t)) text_tokens.push_back(t);
      std::vector<int> sot_sequence = {tok.sot()};
      if (tok.multilingual()) {
        sot_sequence.push_back(language_token);
        sot_sequence.push_back(o.translate ? tok.translate() : tok.transcribe());
      }
      auto words = AlignWords(m, &decoder_, pool_, sot_sequence, text_tokens,
                              static_cast<int>(segment_size), language);
      size_t w = 0;
      for (Segment& s : current) {
        size_t count = 0;
        for (int t : s.tokens) count += tok.IsText(t);
        size_t used = 0;
        while (w < words.size() && used < count) {
          Word word;
          word.text = words[w].text;
          word.start = std::clamp(time_offset + words[w].start, s.start, s.end);
          word.end = std::clamp(time_offset + words[w].end, word.start, s.end);
          word.probability = words[w].probability;
          used += words[w].tokens.size();
          s.words.push_back(std::move(word));
          ++w;
        }
      }
    }
    for (Segment& s : current) {
      if (s.text.empty()) continue;
      all_tokens.insert(all_tokens.end(), s.tokens.begin(), s.tokens.end());
      s.id = static_cast<int>(out.segments.size());
      out.segments.push_back(std::move(s));
    }
    const bool repetitive =
        o.compression_ratio_threshold > 0 && r.compression_ratio > o.compression_ratio_threshold;
    if (!o.condition_on_previous_text || r.temperature > 0.5f || repetitive)
      prompt_reset_since = all_tokens.size();
  }
  out.language = language;
  progress.Report(1.0);
  return out;
}

}  // namespace crm::asr::whisper
