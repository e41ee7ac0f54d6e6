// SafeZip: reads members of a ZIP archive (DOCX, ODT, XLSX...) without trusting it.
//
// Office files are ZIP archives, and a ZIP archive is the classic hostile upload: a member that
// inflates to gigabytes (zip bomb), thousands of members, or names such as "../../etc/passwd"
// meant for a careless extractor. SafeZip (on libzip) never writes a member to disk and:
// - refuses an archive whose members' names are absolute, contain "..", a backslash or a NUL
//   (path traversal), or that has more than max_entries members;
// - refuses one whose declared uncompressed sizes exceed max_entry_bytes / max_total_bytes, or
//   whose members inflate more than max_ratio times (a bomb);
// - enforces the same limits again while inflating, since declared sizes can lie.
// Refusals are ErrorCode::kUnsupportedMediaType with api_code "hostile_file" and the reason in
// details; an archive libzip cannot read at all is kCorrupt.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace crm::documents {

struct ZipLimits {
  int64_t max_entries = 10'000;
  int64_t max_entry_bytes = 64 << 20;   // one member, inflated
  int64_t max_total_bytes = 256 << 20;  // every member, inflated
  // Inflated / compressed size above which a member is a bomb (text XML compresses ~10-20x;
  // legitimate files stay far below). Members under ratio_floor_bytes are not judged.
  double max_ratio = 200;
  int64_t ratio_floor_bytes = 1 << 20;
};

struct ZipEntry {
  std::string name;
  int64_t size = 0;             // declared, inflated
  int64_t compressed_size = 0;  // declared
};

class SafeZip {
 public:
  ~SafeZip();
  SafeZip(const SafeZip&) = delete;
  SafeZip& operator=(const SafeZip&) = delete;

  // Opens and checks the archive's directory (names, counts, declared sizes and ratios).
  static Result<std::unique_ptr<SafeZip>> Open(const std::string& path,
                                               const ZipLimits& limits = {});
  const std::vector<ZipEntry>& entries() const { return entries_; }
  bool Has(const std::string& name) const;
  // The whole member, inflated under the limits (kNotFound when absent).
  Result<std::string> Read(const std::string& name);

 private:
  SafeZip(void* zip, ZipLimits limits) : zip_(zip), limits_(limits) {}
  void* zip_;  // zip_t*
  ZipLimits limits_;
  std::vector<ZipEntry> entries_;
  int64_t inflated_total_ = 0;
};

// The error SafeZip returns for a hostile archive: 415 hostile_file, French first.
Error HostileFile(const std::string& reason_fr, const std::string& reason_en,
                  const std::string& detail);

}  // namespace crm::documents
