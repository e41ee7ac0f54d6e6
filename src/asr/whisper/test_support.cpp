#include "asr/whisper/test_support.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace crm::asr::whisper::testing {

std::string SourceDir() {
  const char* s = std::getenv("CRM_SOURCE_DIR");
  return s ? s : ".";
}
std::string FixturePath() { return SourceDir() + "/tests/data/asr/for-tests-ggml-tiny.bin"; }
std::string ToolPath(const std::string& name) {
  return SourceDir() + "/tools/whisper_reference/" + name;
}

TempDir::TempDir() {
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/crm-whisper-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int Run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

bool MakeModel(const std::string& layout, const std::string& type, const std::string& out,
               int seed) {
  return Run("/usr/bin/python3 " + ToolPath("make_model.py") + " --vocab-from " + FixturePath() +
             " --layout " + layout + " --type " + type + " --seed " + std::to_string(seed) +
             " --out " + out) == 0;
}

void WriteFloats(const std::string& path, const std::vector<float>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
}

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return {};
  const auto size = static_cast<size_t>(f.tellg());
  std::vector<float> v(size / 4);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<float> ReadWav16(const std::string& path) {
  const std::string data = ReadText(path);
  size_t pos = 12;
  while (pos + 8 <= data.size()) {
    uint32_t size;
    std::memcpy(&size, data.data() + pos + 4, 4);
    if (data.compare(pos, 4, "data") == 0) {
      const size_t n = std::min<size_t>(size, data.size() - pos - 8) / 2;
      std::vector<float> out(n);
      for (size_t i = 0; i < n; ++i) {
        int16_t s;
        std::memcpy(&s, data.data() + pos + 8 + 2 * i, 2);
        out[i] = s / 32768.0f;
      }
      return out;
    }
    pos += 8 + size + (size & 1);
  }
  return {};
}

double MaxAbsDiff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

double MaxRelDiff(const float* a, const float* b, size_t n) {
  double scale = 0;
  for (size_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  return MaxAbsDiff(a, b, n) / std::max(scale, 1e-30);
}

}  // namespace crm::asr::whisper::testing
