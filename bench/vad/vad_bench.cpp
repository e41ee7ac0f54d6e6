// Speech detection error and speed of the two voice activity detectors.
//
// For each AMI fixture (tests/data/diarization/{dev00,dev01,trn01..trn09}): missed speech, false
// alarm and total error on 10 ms frames (speech = any reference speaker active), for Silero and
// the energy detector with their recommended options; then the totals, and each detector's
// speed in times real time on one thread (audio seconds per CPU second of the thread, so that
// other load on the machine does not count). The speed reference is the same Silero model run
// by onnxruntime (node, one intra-op thread) on the same audio in the same run, timed around
// inference only.
//
//   crm_vad_bench [--model FILE] [--data DIR] [--sweep] [--no-reference]
//
// --sweep searches the segmentation options (one set for every clip) for each detector and
// reports the best, with a leave-one-clip-out estimate of the error on unseen clips.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/decoder.h"
#include "audio/vad.h"
#include "audio/vad/evaluation.h"
#include "audio/vad/segmentation.h"

using namespace crm;
using namespace crm::audio;

namespace {

struct Clip {
  std::string name;
  std::vector<float> pcm;
  std::vector<SpeechSegment> reference;
  double duration = 0;
};

struct Scored {
  std::vector<std::vector<float>> probabilities;  // per clip
  double frame_seconds = 0;
  double seconds = 0;  // CPU time spent computing probabilities
};

// CPU time of this thread: the speed on one core, whatever else the machine is running.
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

Scored Run(VoiceActivityDetector& d, const std::vector<Clip>& clips, int repeats) {
  Scored s;
  s.frame_seconds = d.frame_seconds();
  const double t0 = ThreadCpuSeconds();
  for (int r = 0; r < repeats; ++r) {
    s.probabilities.clear();
    for (const auto& c : clips) {
      auto p = d.Probabilities(c.pcm.data(), c.pcm.size());
      if (!p.ok()) {
        std::fprintf(stderr, "%s: %s\n", c.name.c_str(), p.error().message.c_str());
        std::exit(1);
      }
      s.probabilities.push_back(std::move(p).value());
    }
  }
  s.seconds = (ThreadCpuSeconds() - t0) / repeats;
  return s;
}

vad::SpeechErrorCounts Score(const Clip& c, const std::vector<float>& p, double frame,
                             const SegmentationOptions& o) {
  return vad::ScoreSpeech(c.reference, vad::SegmentSpeech(p, frame, c.duration, o), c.duration);
}

vad::SpeechErrorCounts Total(const std::vector<Clip>& clips, const Scored& s,
                             const SegmentationOptions& o, int skip = -1) {
  vad::SpeechErrorCounts t;
  for (size_t i = 0; i < clips.size(); ++i)
    if (static_cast<int>(i) != skip) t += Score(clips[i], s.probabilities[i], s.frame_seconds, o);
  return t;
}

std::vector<SegmentationOptions> Grid() {
  std::vector<SegmentationOptions> grid;
  for (float th : {0.15f, 0.2f, 0.25f, 0.3f, 0.35f, 0.4f, 0.5f, 0.6f})
    for (double sil : {0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0})
      for (double pad : {0.0, 0.05, 0.1, 0.2, 0.3})
        for (double ms : {0.1, 0.25}) {
          SegmentationOptions o;
          o.threshold = th;
          o.min_silence_seconds = sil;
          o.pad_seconds = pad;
          o.min_speech_seconds = ms;
          grid.push_back(o);
        }
  return grid;
}

std::string Describe(const SegmentationOptions& o) {
  char b[160];
  std::snprintf(b, sizeof b, "threshold %.2f, bridge < %.2f s, pad %.2f s, min speech %.2f s",
                o.threshold, o.min_silence_seconds, o.pad_seconds, o.min_speech_seconds);
  return b;
}

void Sweep(const char* name, const std::vector<Clip>& clips, const Scored& s) {
  const auto grid = Grid();
  auto best_of = [&](int skip) {
    size_t best = 0;
    double best_err = 1e9;
    for (size_t g = 0; g < grid.size(); ++g) {
      const double e = Total(clips, s, grid[g], skip).error_rate();
      if (e < best_err - 1e-12) best_err = e, best = g;
    }
    return grid[best];
  };
  const auto best = best_of(-1);
  std::printf("%-7s best single set: %s -> %.1f%%\n", name, Describe(best).c_str(),
              100 * Total(clips, s, best).error_rate());
  vad::SpeechErrorCounts held_out;
  for (size_t i = 0; i < clips.size(); ++i)
    held_out += Score(clips[i], s.probabilities[i], s.frame_seconds, best_of(static_cast<int>(i)));
  std::printf("%-7s leave-one-clip-out (options chosen without the clip scored): %.1f%%\n", name,
              100 * held_out.error_rate());
}

// onnxruntime-node over the same audio: CPU seconds of inference, or a negative value when
// unavailable.
double ReferenceSeconds(const std::string& source_dir, const std::string& model,
                        const std::vector<Clip>& clips) {
  const std::string script = source_dir + "/tools/vad_reference/silero_reference.js";
  if (std::system("node --version >/dev/null 2>&1") != 0) return -1;
  double total = 0;
  for (const auto& c : clips) {
    const std::string raw = "/tmp/crm_vad_bench_" + std::to_string(::getpid()) + ".f32";
    {
      std::ofstream f(raw, std::ios::binary);
      f.write(reinterpret_cast<const char*>(c.pcm.data()), c.pcm.size() * sizeof(float));
    }
    const std::string cmd = "node '" + script + "' '" + model + "' '" + raw + "' 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[65536];
    size_t got;
    while (p && (got = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
    const int rc = p ? pclose(p) : -1;
    std::remove(raw.c_str());
    if (rc != 0) return -1;
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_discarded() || !j.contains("inference_cpu_seconds")) return -1;
    total += j["inference_cpu_seconds"].get<double>();
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  std::string source_dir = CRM_DEFAULT_SOURCE_DIR;
  std::string model = std::string(CRM_DEFAULT_BUILD_DIR) + "/" + kSileroModelFile;
  std::string data;
  bool sweep = false, reference = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc)
      model = argv[++i];
    else if (a == "--data" && i + 1 < argc)
      data = argv[++i];
    else if (a == "--sweep")
      sweep = true;
    else if (a == "--no-reference")
      reference = false;
    else {
      std::fprintf(stderr,
                   "usage: crm_vad_bench [--model FILE] [--data DIR] [--sweep] "
                   "[--no-reference]\n");
      return 2;
    }
  }
  if (data.empty()) data = source_dir + "/tests/data/diarization";

  std::vector<Clip> clips;
  double audio_seconds = 0;
  for (const char* name : {"dev00", "dev01", "trn01", "trn02", "trn03", "trn04", "trn05", "trn06",
                           "trn07", "trn08", "trn09"}) {
    Clip c;
    c.name = name;
    auto pcm = DecodeFile(data + "/" + name + ".wav");
    auto ref = vad::ReadRttmTurns(data + "/" + name + ".rttm");
    if (!pcm.ok() || !ref.ok()) {
      std::fprintf(stderr, "cannot read fixture %s in %s\n", name, data.c_str());
      return 1;
    }
    c.pcm = std::move(pcm).value();
    c.reference = std::move(ref).value();
    c.duration = static_cast<double>(c.pcm.size()) / kSampleRate;
    audio_seconds += c.duration;
    clips.push_back(std::move(c));
  }

  auto silero = MakeSileroDetector({.kind = "silero", .model_path = model});
  if (!silero.ok()) {
    std::fprintf(stderr, "%s\n", silero.error().message.c_str());
    return 1;
  }
  auto energy = MakeEnergyDetector();
  Run(**silero, clips, 1);  // warm-up
  const Scored s = Run(**silero, clips, 3);
  const Scored e = Run(*energy, clips, 3);
  const auto so = (*silero)->segmentation();
  const auto eo = energy->segmentation();

  std::printf(
      "Frame-level speech detection error on %zu AMI clips (10 ms frames, speech = any "
      "reference speaker)\n",
      clips.size());
  std::printf("silero: %s\nenergy: %s\n\n", Describe(so).c_str(), Describe(eo).c_str());
  std::printf("%-6s %6s | %7s %7s %7s | %7s %7s %7s\n", "clip", "speech", "s.miss", "s.fa", "s.err",
              "e.miss", "e.fa", "e.err");
  vad::SpeechErrorCounts ts, te;
  for (size_t i = 0; i < clips.size(); ++i) {
    const auto a = Score(clips[i], s.probabilities[i], s.frame_seconds, so);
    const auto b = Score(clips[i], e.probabilities[i], e.frame_seconds, eo);
    ts += a;
    te += b;
    std::printf("%-6s %5.1fs | %6.1f%% %6.1f%% %6.1f%% | %6.1f%% %6.1f%% %6.1f%%\n",
                clips[i].name.c_str(), a.reference * 0.01, 100 * a.missed_rate(),
                100 * a.false_alarm_rate(), 100 * a.error_rate(), 100 * b.missed_rate(),
                100 * b.false_alarm_rate(), 100 * b.error_rate());
  }
  std::printf("%-6s %5.0fs | %6.1f%% %6.1f%% %6.1f%% | %6.1f%% %6.1f%% %6.1f%%\n\n", "total",
              ts.reference * 0.01, 100 * ts.missed_rate(), 100 * ts.false_alarm_rate(),
              100 * ts.error_rate(), 100 * te.missed_rate(), 100 * te.false_alarm_rate(),
              100 * te.error_rate());

  std::printf("Speed, one thread, %.0f s of audio:\n", audio_seconds);
  std::printf("  silero (native)  %8.0fx real time\n", audio_seconds / s.seconds);
  std::printf("  energy           %8.0fx real time\n", audio_seconds / e.seconds);
  if (reference) {
    const double r = ReferenceSeconds(source_dir, model, clips);
    if (r > 0)
      std::printf(
          "  silero (onnxruntime-node, reference) %8.0fx real time; native / reference "
          "= %.2f\n",
          audio_seconds / r, r / s.seconds);
    else
      std::printf("  reference (onnxruntime-node) unavailable\n");
  }
  if (sweep) {
    std::printf("\nSegmentation options searched (%zu sets):\n", Grid().size());
    Sweep("silero", clips, s);
    Sweep("energy", clips, e);
  }
  return 0;
}
