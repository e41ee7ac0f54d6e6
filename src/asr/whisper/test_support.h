// Helpers shared by the Whisper engine's tests: temporary directories, the numpy oracle and the
// random-weight model generator of tools/whisper_reference, raw float files, WAV reading.
#pragma once

#include <string>
#include <vector>

namespace crm::asr::whisper::testing {

std::string SourceDir();           // $CRM_SOURCE_DIR (the repository)
std::string FixturePath();         // tests/data/asr/for-tests-ggml-tiny.bin
std::string ToolPath(const std::string& name);  // tools/whisper_reference/<name>

// A fresh directory under $TMPDIR, removed with its content on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command; returns its exit status (0 = success). Output goes to the test log.
int Run(const std::string& command);

// Generates a random-weight model: layout "tiny"/"base", type "f32"/"f16"/"q8_0"/...
// Returns false when the generator failed.
bool MakeModel(const std::string& layout, const std::string& type, const std::string& out,
               int seed = 1);

void WriteFloats(const std::string& path, const std::vector<float>& v);
std::vector<float> ReadFloats(const std::string& path);
std::string ReadText(const std::string& path);

// 16-bit PCM mono WAV at 16 kHz to floats in [-1, 1] (enough for the test fixtures).
std::vector<float> ReadWav16(const std::string& path);

// max |a - b| and max |a - b| / max |b|.
double MaxAbsDiff(const float* a, const float* b, size_t n);
double MaxRelDiff(const float* a, const float* b, size_t n);

}  // namespace crm::asr::whisper::testing
