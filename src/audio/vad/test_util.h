// Helpers shared by the VAD tests: fixture paths, the shipped model, the reference runtime.
#pragma once

#include <string>
#include <vector>

namespace crm::audio::vad::testing {

std::string SourceDir();  // CRM_SOURCE_DIR
std::string BuildDir();   // CRM_BUILD_DIR
std::string Fixture(const std::string& relative);  // SourceDir()/tests/data/relative
// The model the build placed beside crm-ai.
std::string ShippedModel();
std::vector<float> Decode(const std::string& path);  // 16 kHz mono; fails the test on error
std::string TempPath(const std::string& name);
void WriteFile(const std::string& path, const std::string& bytes);
std::string ReadFile(const std::string& path);

// Runs tools/vad_reference/silero_reference.js (onnxruntime-node) on `pcm`. Returns false and
// sets *why when node or the npm package is not installed.
bool ReferenceProbabilities(const std::vector<float>& pcm, std::vector<float>* out,
                            std::string* why);

}  // namespace crm::audio::vad::testing
