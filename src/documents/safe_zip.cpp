#include "documents/safe_zip.h"

#include <zip.h>

#include <algorithm>

namespace crm::documents {

namespace {

zip_t* Z(void* p) { return static_cast<zip_t*>(p); }

bool TraversingName(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos ||
      name.find('\0') != std::string::npos)
    return true;
  if (name.size() >= 2 && name[1] == ':') return true;  // "C:..."
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0) return true;
    start = end + 1;
  }
  return false;
}

Error Bomb(const std::string& detail) {
  return HostileFile("l'archive se décompresse en une taille démesurée (bombe de décompression)",
                     "the archive inflates to an excessive size (zip bomb)", detail);
}

}  // namespace

Error HostileFile(const std::string& reason_fr, const std::string& reason_en,
                  const std::string& detail) {
  return Error(ErrorCode::kUnsupportedMediaType,
               "Fichier refusé : " + reason_fr + ". Envoyez un fichier sain. / File refused: " +
                   reason_en + ". Send a sound file.",
               {{"reason", detail}}, "hostile_file");
}

SafeZip::~SafeZip() {
  if (zip_) zip_discard(Z(zip_));
}

Result<std::unique_ptr<SafeZip>> SafeZip::Open(const std::string& path, const ZipLimits& limits) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return Error(ErrorCode::kCorrupt, "unreadable zip archive: " + why);
  }
  std::unique_ptr<SafeZip> out(new SafeZip(z, limits));
  zip_int64_t n = zip_get_num_entries(z, 0);
  if (n > limits.max_entries)
    return HostileFile("l'archive contient trop de fichiers", "the archive holds too many files",
                       "entries:" + std::to_string(n));
  int64_t total = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, i, ZIP_FL_ENC_GUESS, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
      return Error(ErrorCode::kCorrupt, "unreadable zip member " + std::to_string(i));
    ZipEntry e;
    e.name = st.name;
    e.size = (st.valid & ZIP_STAT_SIZE) ? static_cast<int64_t>(st.size) : 0;
    e.compressed_size = (st.valid & ZIP_STAT_COMP_SIZE) ? static_cast<int64_t>(st.comp_size) : 0;
    if (TraversingName(e.name))
      return HostileFile("un nom de fichier de l'archive sort de son dossier",
                         "a file name in the archive escapes its folder",
                         "path_traversal:" + e.name.substr(0, 200));
    if (e.size > limits.max_entry_bytes) return Bomb("entry_size:" + e.name.substr(0, 200));
    if (e.size > limits.ratio_floor_bytes &&
        static_cast<double>(e.size) > limits.max_ratio * std::max<int64_t>(e.compressed_size, 1))
      return Bomb("ratio:" + e.name.substr(0, 200));
    total += e.size;
    if (total > limits.max_total_bytes) return Bomb("total_size");
    out->entries_.push_back(std::move(e));
  }
  return out;
}

bool SafeZip::Has(const std::string& name) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const ZipEntry& e) { return e.name == name; });
}

Result<std::string> SafeZip::Read(const std::string& name) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const ZipEntry& e) { return e.name == name; });
  if (it == entries_.end()) return NotFound("zip member not found: " + name);
  zip_file_t* f = zip_fopen(Z(zip_), name.c_str(), 0);
  if (!f) return Error(ErrorCode::kCorrupt, "zip member cannot be opened: " + name);
  std::string out;
  out.reserve(static_cast<size_t>(std::min<int64_t>(it->size, 1 << 20)));
  char buf[64 * 1024];
  Status st = OkStatus();
  for (;;) {
    zip_int64_t got = zip_fread(f, buf, sizeof buf);
    if (got < 0) {
      st = Error(ErrorCode::kCorrupt, "zip member cannot be inflated: " + name);
      break;
    }
    if (got == 0) break;
    out.append(buf, static_cast<size_t>(got));
    inflated_total_ += got;
    // Declared sizes may lie: the limits hold on what actually comes out.
    int64_t size = static_cast<int64_t>(out.size());
    if (size > limits_.max_entry_bytes || inflated_total_ > limits_.max_total_bytes ||
        (size > limits_.ratio_floor_bytes &&
         static_cast<double>(size) >
             limits_.max_ratio * std::max<int64_t>(it->compressed_size, 1))) {
      st = Bomb("inflated:" + name.substr(0, 200));
      break;
    }
  }
  zip_fclose(f);
  if (!st.ok()) return st.take_error();
  return out;
}

}  // namespace crm::documents
