// Diarization benchmark: accuracy on the fixture clips and speed of the whole command.
//
// usage: crm_diarization_bench [--source DIR] [--binary PATH] [--minutes N] [--clips a,b,...]
//                              [--vads energy,silero]   (--minutes 0: accuracy only)
//                              [--imposed-count]  (each clip given its count of main speakers)
//                              [--single-back-end]  (ConsensusOptions::enabled = false)
//                              [--threads N]  (DiarizationOptions::threads; 1 by default;
//                                 with --loo, the grid's runs side by side)
//                              [--loo | --loo-only]  (leave-one-out figures, VAD silero;
//                                 --loo-only skips everything else)
//                              [--loo-cuts a,b,..] [--loo-lambdas ..] [--loo-count-shares ..]
//                              [--loo-speaker-shares ..]  (the grid; leave_one_out.h)
//        crm_diarization_bench --diarize-file PATH --read source|buffer   (one measured run)
//
// For each VAD (energy, silero) and each clip of tests/data/diarization: DER (collar 0, overlap
// scored, the whole clip scored) with missed speech, false alarm and confusion, DER with a
// 0.25 s collar, and reference vs found speaker counts; the overall DER of the AMI clips
// (speaker-time weighted) and of sample.wav. The reference in the same run is the one-speaker
// answer (all detected speech to one speaker) on the same VAD output.
// The AMI clips are split in two: parameters were chosen on the tuning clips (kTuning, with
// sample.wav) and the others are held out; the overall figures of both are printed.
// Speed and memory: an N-minute recording (the clips end to end, default 10) is written to a
// temporary WAV file and diarized by the crm-ai binary (process start, decoding and VAD
// included), and by this program in a child process in two ways, each with its own peak memory
// (VmHWM): the audio read from an audio::DecodedFile source in pieces, and the reference, the
// whole recording decoded into memory first (DecodeFile) and given as a buffer.
// Leave-one-out (--loo): every setting of a parameter grid on every clip; each clip scored with
// the setting chosen on the other clips, beside today's defaults (leave_one_out.h).
// One voice alone: every reference speaker's solo stretches put end to end (and jfk.wav) should
// be found as one speaker; the bench counts those that are.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "audio/decoder.h"
#include "audio/sample_source.h"
#include "audio/vad.h"
#include "common/log.h"
#include "diarization/der.h"
#include "diarization/diarization.h"
#include "diarization/rttm.h"
#include "leave_one_out.h"

using namespace crm;
using namespace crm::diarization;

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds (user + system) of this process or of its waited-for children: on a shared
// machine, wall time also counts the other jobs.
double CpuSeconds(int who) {
  struct rusage u;
  getrusage(who, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Totals {
  double total = 0, missed = 0, fa = 0, conf = 0, total25 = 0, err25 = 0;
  void Add(const DerResult& r0, const DerResult& r25) {
    total += r0.total;
    missed += r0.missed;
    fa += r0.false_alarm;
    conf += r0.confusion;
    total25 += r25.total;
    err25 += r25.missed + r25.false_alarm + r25.confusion;
  }
  double Der() const { return total > 0 ? (missed + fa + conf) / total : 0; }
  double Der25() const { return total25 > 0 ? err25 / total25 : 0; }
};

// AMI clips the parameters were chosen on (with sample.wav); the other AMI clips are held out.
const std::vector<std::string> kTuning = {"dev00", "dev01", "trn03", "trn04", "trn06"};

bool IsTuning(const std::string& clip) {
  return std::find(kTuning.begin(), kTuning.end(), clip) != kTuning.end();
}

// Peak resident memory of this process image (MB), from /proc: unlike ru_maxrss it does not
// count what the parent held before exec.
double PeakMegabytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return -1;
}

// --single-back-end: one clustering -> BIC -> re-segmentation chain, no consensus.
bool g_single_back_end = false;
// --threads N: the consensus' re-segmentations side by side (the answers do not change).
int g_threads = 1;

DiarizationOptions BenchOptions() {
  DiarizationOptions o;
  o.consensus.enabled = !g_single_back_end;
  o.threads = g_threads;
  return o;
}

// One diarization of `path` with the Silero VAD, audio read from a decoded-file source or from a
// buffer holding the whole recording. Prints one line: wall and CPU seconds, peak MB, speakers.
int DiarizeFileOnce(const std::string& path, const std::string& read) {
  const std::string model = std::string(CRM_DEFAULT_BUILD_DIR) + "/silero_vad_v5.onnx";
  auto vad = audio::MakeVoiceActivityDetector({"silero", model});
  auto t0 = Clock::now();
  const double cpu0 = CpuSeconds(RUSAGE_SELF);
  Result<Diarization> d = Error(ErrorCode::kInvalidArgument, "--read must be source or buffer");
  if (read == "source") {
    auto file = audio::DecodedFile::Decode(path, "/tmp");
    if (!file.ok()) return std::fprintf(stderr, "%s\n", file.error().message.c_str()), 1;
    d = Diarizer(BenchOptions()).Run(**file, *vad);
  } else if (read == "buffer") {
    auto pcm = audio::DecodeFile(path);
    if (!pcm.ok()) return std::fprintf(stderr, "%s\n", pcm.error().message.c_str()), 1;
    d = Diarizer(BenchOptions()).Run(pcm->data(), pcm->size(), *vad);
  }
  if (!d.ok()) return std::fprintf(stderr, "%s\n", d.error().message.c_str()), 1;
  std::printf("%.2f %.2f %.0f %d\n", Since(t0), CpuSeconds(RUSAGE_SELF) - cpu0, PeakMegabytes(),
              d->num_speakers);
  return 0;
}

// Runs this program on `path` in a child process and reads its line.
bool MeasureChild(const std::string& self, const std::string& path, const std::string& read,
                  double* wall, double* cpu, double* peak, int* speakers) {
  std::string cmd = self + " --diarize-file " + path + " --read " + read +
                    (g_single_back_end ? " --single-back-end" : "") + " --threads " +
                    std::to_string(g_threads) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return false;
  int got = std::fscanf(p, "%lf %lf %lf %d", wall, cpu, peak, speakers);
  return pclose(p) == 0 && got == 4;
}

// Reference speakers holding at least 20 % of the reference speech: the "main" speakers, as
// opposed to someone heard for half a second in a 30 s clip.
int MainSpeakers(const std::vector<NamedTurn>& ref) {
  std::map<std::string, double> seconds;
  double total = 0;
  for (const NamedTurn& t : ref) {
    seconds[t.speaker] += t.end - t.start;
    total += t.end - t.start;
  }
  int main = 0;
  for (const auto& [name, s] : seconds) main += s >= 0.2 * total;
  return main;
}

// "Oracle clustering" of the detected speech: every 10 ms of it given its true reference speaker
// (where several talk, the one with the most speech in the clip; where none does, the label is
// irrelevant since it is false alarm anyway). The DER of this answer is the floor any clustering
// of this VAD output can reach with one speaker at a time: what is above it is confusion.
std::vector<NamedTurn> OracleTurns(const std::vector<NamedTurn>& ref,
                                   const std::vector<audio::SpeechSegment>& speech) {
  std::map<std::string, double> seconds;
  for (const NamedTurn& t : ref) seconds[t.speaker] += t.end - t.start;
  std::vector<NamedTurn> out;
  for (const audio::SpeechSegment& s : speech) {
    for (double t = s.start; t < s.end; t += 0.01) {
      const double e = std::min(s.end, t + 0.01), mid = 0.5 * (t + e);
      std::string best = "none";
      for (const NamedTurn& r : ref) {
        if (r.start <= mid && mid < r.end && (best == "none" || seconds[r.speaker] > seconds[best]))
          best = r.speaker;
      }
      if (!out.empty() && out.back().speaker == best && out.back().end >= t - 1e-9) {
        out.back().end = e;
      } else {
        out.push_back({t, e, best});
      }
    }
  }
  return out;
}

// One-voice recordings made from the clips: for every reference speaker, the stretches of at
// least 0.3 s where they speak alone, end to end with 0.3 s pauses of the clip's own room sound
// between; kept when they add up to 6 s. Each should be found as one speaker.
struct OneVoice {
  std::string name;
  std::vector<float> pcm;
};
std::vector<OneVoice> OneVoiceRecordings(const std::string& clip, const std::vector<float>& pcm,
                                         const std::vector<NamedTurn>& ref) {
  constexpr size_t kHop = 160;  // 10 ms
  const size_t frames = pcm.size() / kHop;
  std::map<std::string, std::vector<int>> active;  // speaker -> 0/1 per frame
  std::vector<int> talkers(frames, 0);
  for (const NamedTurn& t : ref) {
    auto& a = active[t.speaker];
    a.resize(frames, 0);
    for (size_t f = static_cast<size_t>(t.start * 100); f < frames && f < t.end * 100; ++f) {
      if (!a[f]) ++talkers[f];
      a[f] = 1;
    }
  }
  // The pauses are the room: the clip's own audio where nobody speaks, taken in turn (white
  // noise at -60 dBFS when the clip has less than a pause of it).
  std::vector<float> room;
  for (size_t f = 0; f < frames; ++f) {
    if (talkers[f] == 0)
      room.insert(room.end(), pcm.begin() + f * kHop, pcm.begin() + (f + 1) * kHop);
  }
  constexpr size_t kPause = 4800;  // 0.3 s
  if (room.size() < kPause) {
    uint32_t x = 12345;
    room.resize(kPause);
    for (float& r : room) {
      x = x * 1664525u + 1013904223u;
      r = 1e-3f * (static_cast<float>(x >> 8) / static_cast<float>(1u << 24) - 0.5f) * 3.46f;
    }
  }
  size_t room_at = 0;
  std::vector<OneVoice> out;
  for (const auto& [speaker, a] : active) {
    OneVoice v{clip + "/" + speaker, {}};
    for (size_t f = 0; f < frames;) {
      size_t e = f;
      while (e < frames && a[e] && talkers[e] == 1) ++e;
      if (e - f >= 30) {
        v.pcm.insert(v.pcm.end(), pcm.begin() + f * kHop, pcm.begin() + e * kHop);
        for (size_t i = 0; i < kPause; ++i) v.pcm.push_back(room[room_at++ % room.size()]);
      }
      f = e > f ? e : f + 1;
    }
    if (v.pcm.size() >= 6 * 16000) out.push_back(std::move(v));
  }
  return out;
}

std::vector<double> ParseList(const std::string& v) {
  std::vector<double> out;
  std::stringstream s(v);
  for (std::string c; std::getline(s, c, ',');) out.push_back(std::atof(c.c_str()));
  return out;
}

bool WriteWav(const std::string& path, const std::vector<float>& pcm) {
  std::ofstream out(path, std::ios::binary);
  out << audio::EncodeWav(pcm);
  return out.good();
}

}  // namespace

int main(int argc, char** argv) {
  std::string source = CRM_DEFAULT_SOURCE_DIR;
  std::string binary = std::string(CRM_DEFAULT_BUILD_DIR) + "/crm-ai";
  double minutes = 10;
  std::vector<std::string> clips = {"dev00", "dev01", "trn01", "trn02", "trn03", "trn04",
                                    "trn05", "trn06", "trn07", "trn08", "trn09", "sample"};
  std::string diarize_file, read = "source";
  std::vector<std::string> vads = {"energy", "silero"};
  bool imposed_count = false, loo = false, loo_only = false;
  bench::LooGridSpec loo_spec;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--loo" || a == "--loo-only") {
      loo = true;
      loo_only = a == "--loo-only";
      --i;
      continue;
    }
    if (a == "--imposed-count") {
      imposed_count = true;
      --i;
      continue;
    }
    if (a == "--single-back-end") {
      g_single_back_end = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "option %s needs a value\n", a.c_str());
      return 2;
    }
    std::string v = argv[i + 1];
    if (a == "--diarize-file")
      diarize_file = v;
    else if (a == "--read")
      read = v;
    else if (a == "--source")
      source = v;
    else if (a == "--binary")
      binary = v;
    else if (a == "--minutes")
      minutes = std::atof(v.c_str());
    else if (a == "--threads")
      g_threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--loo-cuts")
      loo_spec.cuts = ParseList(v);
    else if (a == "--loo-lambdas")
      loo_spec.bic_lambdas = ParseList(v);
    else if (a == "--loo-count-shares")
      loo_spec.min_count_shares = ParseList(v);
    else if (a == "--loo-speaker-shares")
      loo_spec.min_speaker_shares = ParseList(v);
    else if (a == "--vads") {
      vads.clear();
      std::stringstream s(v);
      for (std::string c; std::getline(s, c, ',');) vads.push_back(c);
    } else if (a == "--clips") {
      clips.clear();
      std::stringstream s(v);
      for (std::string c; std::getline(s, c, ',');) clips.push_back(c);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (!diarize_file.empty()) {
    crm::log::Configure(crm::log::Level::kError, crm::log::Format::kText);
    return DiarizeFileOnce(diarize_file, read);
  }
  const std::string dir = source + "/tests/data/diarization/";
  const std::string silero_model = std::string(CRM_DEFAULT_BUILD_DIR) + "/silero_vad_v5.onnx";
  crm::log::Configure(crm::log::Level::kError, crm::log::Format::kText);

  // One-voice recordings: the clips' speakers alone, and jfk.wav (one speaker, 11 s).
  std::vector<OneVoice> one_voice;
  if (auto jfk = audio::DecodeFile(source + "/tests/data/asr/jfk.wav"); jfk.ok()) {
    one_voice.push_back({"jfk", std::move(*jfk)});
  }
  std::vector<std::vector<float>> audio;
  for (const auto& c : clips) {
    auto pcm = audio::DecodeFile(dir + c + ".wav");
    if (!pcm.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.c_str(), pcm.error().message.c_str());
      return 1;
    }
    auto ref = ParseRttm(Slurp(dir + c + ".rttm"));
    if (ref.ok()) {
      for (auto& v : OneVoiceRecordings(c, *pcm, *ref)) one_voice.push_back(std::move(v));
    }
    audio.push_back(std::move(*pcm));
  }

  if (loo) {
    auto vad = audio::MakeVoiceActivityDetector({"silero", silero_model});
    std::vector<bench::LooClip> loo_clips;
    for (size_t i = 0; i < clips.size(); ++i) {
      auto ref = ParseRttm(Slurp(dir + clips[i] + ".rttm"));
      auto speech = vad->Detect(audio[i].data(), audio[i].size());
      if (!ref.ok() || !speech.ok()) return 1;
      loo_clips.push_back({clips[i], &audio[i], *ref, *speech, MainSpeakers(*ref)});
    }
    DiarizationOptions base = BenchOptions();
    base.threads = 1;
    std::printf("\n== VAD %s\n", vad->name().c_str());
    if (!bench::RunLeaveOneOut(loo_clips, bench::MakeLooGrid(base, loo_spec), g_threads)) return 1;
    if (loo_only) return 0;
  }

  for (const std::string& kind : vads) {
    std::string warning;
    auto vad = audio::MakeVoiceActivityDetector({kind, silero_model}, &warning);
    std::printf("\n== VAD %s%s%s\n", vad->name().c_str(), warning.empty() ? "" : " — ",
                warning.c_str());
    std::printf("%-7s %7s %7s %7s %7s %9s %5s %4s | %9s %9s %9s\n", "clip", "DER", "missed",
                "f.alarm", "confus.", "DER c.25", "spk", "main", "1-spk DER", "oracle", "seconds");
    Totals ami_oracle, tuning_oracle, held_out_oracle, sample_oracle;
    Totals ami, ami_one, sample, sample_one, tuning, tuning_one, held_out, held_out_one;
    double seconds = 0, cpu_seconds = 0, duration = 0;
    int count_right = 0, main_right = 0;
    for (size_t i = 0; i < clips.size(); ++i) {
      const auto& pcm = audio[i];
      auto ref = ParseRttm(Slurp(dir + clips[i] + ".rttm"));
      if (!ref.ok()) return 1;
      const double dur = pcm.size() / 16000.0;
      auto t0 = Clock::now();
      const double cpu0 = CpuSeconds(RUSAGE_SELF);
      auto speech = vad->Detect(pcm.data(), pcm.size());
      if (!speech.ok()) return 1;
      DiarizationOptions options = BenchOptions();
      if (imposed_count) options.num_speakers = std::max(1, MainSpeakers(*ref));
      Diarizer diarizer(options);
      auto d = diarizer.Run(pcm.data(), pcm.size(), *speech);
      if (!d.ok()) {
        std::fprintf(stderr, "%s: %s\n", clips[i].c_str(), d.error().message.c_str());
        return 1;
      }
      seconds += Since(t0);
      cpu_seconds += CpuSeconds(RUSAGE_SELF) - cpu0;
      duration += dur;
      std::vector<NamedTurn> one;
      for (const auto& s : *speech) one.push_back({s.start, s.end, "one"});
      DerOptions c0, c25;
      c0.uem_end = c25.uem_end = dur;
      c25.collar = 0.25;
      auto hyp = NameTurns(d->turns);
      DerResult r0 = ScoreDiarization(*ref, hyp, c0), r25 = ScoreDiarization(*ref, hyp, c25);
      DerResult o0 = ScoreDiarization(*ref, one, c0), o25 = ScoreDiarization(*ref, one, c25);
      const auto oracle = OracleTurns(*ref, *speech);
      DerResult q0 = ScoreDiarization(*ref, oracle, c0), q25 = ScoreDiarization(*ref, oracle, c25);
      const double t = std::max(r0.total, 1e-9);
      const int main_speakers = MainSpeakers(*ref);
      std::printf(
          "%-7s %6.1f%% %6.1f%% %6.1f%% %6.1f%% %8.1f%% %2d/%-2d %4d | %8.1f%% %8.1f%% %9.2f\n",
          clips[i].c_str(), 100 * r0.der(), 100 * r0.missed / t, 100 * r0.false_alarm / t,
          100 * r0.confusion / t, 100 * r25.der(), r0.reference_speakers, d->num_speakers,
          main_speakers, 100 * o0.der(), 100 * q0.der(), Since(t0));
      count_right += r0.reference_speakers == d->num_speakers;
      main_right += main_speakers == d->num_speakers;
      bool is_sample = clips[i] == "sample";
      (is_sample ? sample : ami).Add(r0, r25);
      if (!is_sample) {
        (IsTuning(clips[i]) ? tuning : held_out).Add(r0, r25);
        (IsTuning(clips[i]) ? tuning_one : held_out_one).Add(o0, o25);
      }
      (is_sample ? sample_one : ami_one).Add(o0, o25);
      (is_sample ? sample_oracle : ami_oracle).Add(q0, q25);
      if (!is_sample) (IsTuning(clips[i]) ? tuning_oracle : held_out_oracle).Add(q0, q25);
    }
    std::printf(
        "AMI overall: DER %.1f%% (missed %.1f%%, false alarm %.1f%%, confusion %.1f%%), "
        "collar 0.25 s %.1f%%; one-speaker reference %.1f%% (collar 0.25 s %.1f%%)\n",
        100 * ami.Der(), 100 * ami.missed / ami.total, 100 * ami.fa / ami.total,
        100 * ami.conf / ami.total, 100 * ami.Der25(), 100 * ami_one.Der(), 100 * ami_one.Der25());
    if (sample.total > 0) {
      std::printf("sample.wav: DER %.1f%%, collar 0.25 s %.1f%%; one-speaker reference %.1f%%\n",
                  100 * sample.Der(), 100 * sample.Der25(), 100 * sample_one.Der());
    }
    std::printf(
        "AMI tuning clips (dev00 dev01 trn03 trn04 trn06): DER %.1f%%, collar 0.25 s "
        "%.1f%% (one speaker %.1f%%); AMI held-out clips: DER %.1f%%, collar 0.25 s %.1f%% "
        "(one speaker %.1f%%)\n",
        100 * tuning.Der(), 100 * tuning.Der25(), 100 * tuning_one.Der(), 100 * held_out.Der(),
        100 * held_out.Der25(), 100 * held_out_one.Der());
    std::printf(
        "oracle clustering of the detected speech (collar 0 / 0.25 s): AMI %.1f%% / %.1f%%, "
        "tuning %.1f%%, held out %.1f%%, sample.wav %.1f%% / %.1f%%\n",
        100 * ami_oracle.Der(), 100 * ami_oracle.Der25(), 100 * tuning_oracle.Der(),
        100 * held_out_oracle.Der(), 100 * sample_oracle.Der(), 100 * sample_oracle.Der25());
    std::printf(
        "speaker count right on %d of %zu clips (on %d counting the main speakers only); library "
        "time %.3f s wall, %.3f s CPU "
        "for %.0f s (real-time factor %.4f wall, %.4f CPU, VAD included)\n",
        count_right, clips.size(), main_right, seconds, cpu_seconds, duration, seconds / duration,
        cpu_seconds / duration);
    int one = 0;
    std::string split;
    for (const OneVoice& v : one_voice) {
      auto speech = vad->Detect(v.pcm.data(), v.pcm.size());
      if (!speech.ok()) return 1;
      auto d = Diarizer(BenchOptions()).Run(v.pcm.data(), v.pcm.size(), *speech);
      if (!d.ok()) return 1;
      if (d->num_speakers == 1) {
        ++one;
      } else {
        split += " " + v.name + " (" + std::to_string(d->num_speakers) + ")";
      }
    }
    std::printf(
        "one voice alone (a speaker's solo stretches end to end, and jfk.wav): %d of %zu "
        "found as one speaker%s%s\n",
        one, one_voice.size(), split.empty() ? "" : "; not:", split.c_str());
  }

  // Speed of the whole command on a longer recording.
  if (minutes <= 0) return 0;
  std::vector<float> longer;
  const size_t want = static_cast<size_t>(minutes * 60 * 16000);
  while (longer.size() < want && !audio.empty()) {
    for (const auto& a : audio) {
      longer.insert(longer.end(), a.begin(), a.end());
      if (longer.size() >= want) break;
    }
  }
  longer.resize(std::min(longer.size(), want));
  const double long_seconds = longer.size() / 16000.0;
  char path[] = "/tmp/crm-diar-bench-XXXXXX.wav";
  int fd = mkstemps(path, 4);
  if (fd < 0 || !WriteWav(path, longer)) {
    std::fprintf(stderr, "cannot write a temporary WAV file\n");
    return 1;
  }
  close(fd);
  std::vector<float>().swap(longer);
  audio.clear();
  std::printf("\n== speed on %.1f min (%s)\n", long_seconds / 60, path);
  auto t0 = Clock::now();
  bool decoded_ok = audio::DecodeFile(path).ok();  // freed at once: the children measure memory
  const double decode_seconds = Since(t0);
  if (!decoded_ok) std::printf("the temporary WAV file cannot be decoded\n");
  std::printf("reference: decoding in-process %.3f s (real-time factor %.4f)\n", decode_seconds,
              decode_seconds / long_seconds);
  for (const char* kind : {"silero", "energy"}) {
    if (access(binary.c_str(), X_OK) != 0) {
      std::printf("crm-ai not found at %s: command not timed\n", binary.c_str());
      break;
    }
    std::string cmd = "VAD=" + std::string(kind) + " " + binary + " diarize " + path +
                      " --threads " + std::to_string(g_threads) + " --format rttm > /dev/null 2>&1";
    t0 = Clock::now();
    const double cpu0 = CpuSeconds(RUSAGE_CHILDREN);
    int rc = std::system(cmd.c_str());
    const double s = Since(t0), cpu = CpuSeconds(RUSAGE_CHILDREN) - cpu0;
    std::printf(
        "crm-ai diarize (VAD %s): %.2f s wall, real-time factor %.4f (%.1fx decoding); "
        "%.2f s CPU, %.4f; exit %d\n",
        kind, s, s / long_seconds, s / std::max(decode_seconds, 1e-9), cpu, cpu / long_seconds,
        WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
  }
  for (const char* how : {"source", "buffer"}) {
    double wall = 0, cpu = 0, peak = 0;
    int speakers = 0;
    if (!MeasureChild(argv[0], path, how, &wall, &cpu, &peak, &speakers)) {
      std::printf("library (%s): child run failed\n", how);
      continue;
    }
    std::printf(
        "library, Silero VAD, audio %s: %.2f s wall, %.2f s CPU (real-time factor %.4f "
        "wall, %.4f CPU, process start and decoding included), peak memory %.0f MB, "
        "%d speakers\n",
        std::string(how) == "source" ? "read in pieces from a decoded file"
                                     : "decoded whole into memory (reference)",
        wall, cpu, wall / long_seconds, cpu / long_seconds, peak, speakers);
  }
  unlink(path);
  return 0;
}
