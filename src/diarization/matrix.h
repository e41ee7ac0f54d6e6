// A plain row-major float matrix: the one container of the diarizer's numeric code.
#pragma once

#include <cstddef>
#include <vector>

namespace crm::diarization {

struct Matrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> data;

  Matrix() = default;
  Matrix(size_t r, size_t c, float fill = 0.f) : rows(r), cols(c), data(r * c, fill) {}
  float* row(size_t i) { return data.data() + i * cols; }
  const float* row(size_t i) const { return data.data() + i * cols; }
  float& at(size_t i, size_t j) { return data[i * cols + j]; }
  float at(size_t i, size_t j) const { return data[i * cols + j]; }
};

}  // namespace crm::diarization
