// LocalBlobStore: blobs as files under a root directory (DATA_DIR).
//
// Atomicity comes from rename(2): content is written and fsynced under another name on the same
// file system, then renamed into place (renameat2 with RENAME_NOREPLACE when the key must not
// exist yet), and the directory is fsynced so the new name survives a crash.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "blobs/blob_store.h"
#include "common/ids.h"

namespace crm::blobs {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxKeyLength = 512;
constexpr size_t kMaxSegmentLength = 255;
constexpr std::string_view kTemporaryDir = "tmp/blobs";  // kTemporaryPrefix without its slash
// Files a Put is writing. flock()ed while in use, so that the sweep removes a dead process's at
// once rather than after max_age.
constexpr std::string_view kStagingPrefix = "put-";

Error ErrnoError(std::string_view key, std::string_view what, int err) {
  std::string msg =
      "blob " + std::string(key) + ": " + std::string(what) + ": " + std::strerror(err);
  if (err == ENOENT) return NotFound(msg);
  if (err == EEXIST) return Error(ErrorCode::kConflict, msg);
  return IoError(msg);
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status SyncPath(const fs::path& path, int flags) {
  FileDescriptor fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(path.string(), "cannot open to sync", errno);
  if (::fsync(fd.get()) != 0) return ErrnoError(path.string(), "cannot sync", errno);
  return OkStatus();
}

Status SyncDirectory(const fs::path& dir) { return SyncPath(dir, O_RDONLY | O_DIRECTORY); }

// rename(2) that refuses to replace an existing `to` unless `overwrite`.
int RenameFile(const fs::path& from, const fs::path& to, bool overwrite) {
  if (overwrite) return ::rename(from.c_str(), to.c_str());
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // File systems without RENAME_NOREPLACE: link() also fails when `to` exists.
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  return ::unlink(from.c_str());
}

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(int fd, int64_t size) : fd_(fd), size_(size) {}
  int64_t size() const override { return size_; }
  Result<size_t> ReadAt(int64_t offset, void* out, size_t n) override {
    if (offset < 0) return InvalidArgument("negative read offset");
    if (offset >= size_ || n == 0) return size_t{0};
    n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), size_ - offset));
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_.get(), static_cast<char*>(out) + done, n - done, offset + done);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return ErrnoError("(open blob)", "read failed", errno);
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

 private:
  FileDescriptor fd_;
  int64_t size_;
};

class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(fs::path root) : root_(std::move(root)) {}

  Status Put(std::string_view key, const fs::path& source, const PutOptions& options) override {
    CRM_TRY(ValidateKey(key));
    struct stat st {};
    if (::lstat(source.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return InvalidArgument("blob " + std::string(key) + ": source " + source.string() +
                             " is not a regular file");
    CRM_TRY(SyncPath(source, O_RDONLY));
    fs::path dest = root_ / std::string(key);
    CRM_TRY(MakeParent(key, dest));
    if (RenameFile(source, dest, options.overwrite) != 0) {
      if (errno != EXDEV) return ErrnoError(key, "cannot store", errno);
      CRM_TRY(CopyAcrossDevices(key, source, dest, options));  // another file system
    }
    CRM_TRY(SyncDirectory(dest.parent_path()));
    if (source.has_parent_path()) (void)SyncDirectory(source.parent_path());
    return OkStatus();
  }

  Status PutBytes(std::string_view key, std::string_view data, const PutOptions& options) override {
    CRM_TRY(ValidateKey(key));
    // The staging file stays open (and flock()ed) until it is in place: see SweepTemporary.
    int held = -1;
    CRM_ASSIGN_OR_RETURN(fs::path staged, Stage(key, data, &held));
    FileDescriptor lock(held);
    Status st = Put(key, staged, options);
    if (!st.ok()) ::unlink(staged.c_str());
    return st;
  }

  Status Move(std::string_view from, std::string_view to) override {
    CRM_TRY(ValidateKey(from));
    CRM_TRY(ValidateKey(to));
    fs::path src = root_ / std::string(from), dest = root_ / std::string(to);
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return NotFound("blob " + std::string(from) + " not found");
    CRM_TRY(MakeParent(to, dest));
    if (RenameFile(src, dest, /*overwrite=*/false) != 0)
      return ErrnoError(to, "cannot move " + std::string(from) + " here", errno);
    CRM_TRY(SyncDirectory(dest.parent_path()));
    if (src.parent_path() != dest.parent_path()) CRM_TRY(SyncDirectory(src.parent_path()));
    return OkStatus();
  }

  Result<std::unique_ptr<BlobReader>> Open(std::string_view key) override {
    CRM_TRY(ValidateKey(key));
    fs::path path = root_ / std::string(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == ENOTDIR || err == ELOOP) err = ENOENT;
      return ErrnoError(key, "cannot open", err);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return NotFound("blob " + std::string(key) + " not found");
    }
    return std::unique_ptr<BlobReader>(new LocalBlobReader(fd, static_cast<int64_t>(st.st_size)));
  }

  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override {
    if (offset < 0 || length < 0)
      return InvalidArgument("blob " + std::string(key) + ": negative offset or length");
    CRM_ASSIGN_OR_RETURN(auto reader, Open(key));
    if (offset > reader->size())
      return InvalidArgument("blob " + std::string(key) + ": offset " + std::to_string(offset) +
                             " is past its end (" + std::to_string(reader->size()) + " bytes)");
    std::string out(static_cast<size_t>(std::min(length, reader->size() - offset)), '\0');
    CRM_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(offset, out.data(), out.size()));
    out.resize(got);
    return out;
  }

  Result<bool> Exists(std::string_view key) override {
    CRM_TRY(ValidateKey(key));
    struct stat st {};
    fs::path path = root_ / std::string(key);
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return false;
      return ErrnoError(key, "cannot inspect", errno);
    }
    return S_ISREG(st.st_mode);
  }

  Result<int64_t> Size(std::string_view key) override {
    CRM_TRY(ValidateKey(key));
    struct stat st {};
    fs::path path = root_ / std::string(key);
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return NotFound("blob " + std::string(key) + " not found");
    return static_cast<int64_t>(st.st_size);
  }

  Status Delete(std::string_view key) override {
    CRM_TRY(ValidateKey(key));
    fs::path path = root_ / std::string(key);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return OkStatus();
      return ErrnoError(key, "cannot inspect", errno);
    }
    if (!S_ISREG(st.st_mode))
      return InvalidArgument("blob " + std::string(key) + " is not a blob (a directory?)");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return ErrnoError(key, "cannot delete", errno);
    (void)SyncDirectory(path.parent_path());
    return OkStatus();
  }

  Result<int> SweepTemporary(std::chrono::seconds max_age) override {
    fs::path dir = root_ / kTemporaryDir;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return 0;
    auto cutoff = fs::file_time_type::clock::now() - max_age;
    std::vector<fs::path> old;
    for (auto it = fs::recursive_directory_iterator(
             dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code e;
      if (it->is_symlink(e) || !it->is_regular_file(e)) continue;
      if (it->path().filename().string().rfind(kStagingPrefix, 0) == 0) {
        FileDescriptor fd(::open(it->path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() >= 0 && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) old.push_back(it->path());
        continue;
      }
      auto mtime = it->last_write_time(e);
      if (!e && mtime < cutoff) old.push_back(it->path());
    }
    if (ec) return IoError("cannot list temporary blobs in " + dir.string() + ": " + ec.message());
    int removed = 0;
    for (auto& p : old)
      if (fs::remove(p, ec)) ++removed;
    return removed;
  }

  Status List(const std::function<Status(const BlobInfo&)>& fn) override {
    std::vector<BlobInfo> found;
    std::error_code ec;
    for (const auto& top : fs::directory_iterator(root_, ec)) {
      std::error_code e;
      std::string name = top.path().filename().string();
      if (top.is_symlink(e) || !top.is_directory(e)) continue;  // the database, app.key
      if (name == "tmp" || name == "models" || name == "backups" || name.front() == '.') continue;
      for (auto it = fs::recursive_directory_iterator(top.path(), ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_symlink(e) || !it->is_regular_file(e)) continue;
        std::string key = it->path().lexically_relative(root_).generic_string();
        if (!ValidateKey(key).ok()) continue;  // not written through the store
        auto size = it->file_size(e);
        if (e) return IoError("cannot read the size of blob " + key + ": " + e.message());
        found.push_back({std::move(key), static_cast<int64_t>(size)});
      }
      if (ec) return IoError("cannot list blobs under " + top.path().string() + ": " + ec.message());
    }
    if (ec) return IoError("cannot list blobs in " + root_.string() + ": " + ec.message());
    std::sort(found.begin(), found.end(),
              [](const BlobInfo& a, const BlobInfo& b) { return a.key < b.key; });
    for (const auto& b : found) CRM_TRY(fn(b));
    return OkStatus();
  }

 private:
  Status MakeParent(std::string_view key, const fs::path& dest) {
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec)
      return IoError("blob " + std::string(key) + ": cannot create its folder: " + ec.message());
    return OkStatus();
  }

  // Writes `data` to a new file among the temporary blobs (same file system as the store).
  // `*held` receives the open, locked descriptor; the caller closes it.
  Result<fs::path> Stage(std::string_view key, std::string_view data, int* held) {
    fs::path path = root_ / kTemporaryDir / (std::string(kStagingPrefix) + NewId());
    CRM_TRY(MakeParent(key, path));
    FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
    if (fd.get() < 0) return ErrnoError(key, "cannot create a staging file", errno);
    (void)::flock(fd.get(), LOCK_EX);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::unlink(path.c_str());
        return ErrnoError(key, "cannot write", err);
      }
      done += static_cast<size_t>(n);
    }
    *held = ::dup(fd.get());  // the lock belongs to the open file, shared by the dup
    return path;
  }

  // The source is on another file system: copy it next to the destination, then rename.
  Status CopyAcrossDevices(std::string_view key, const fs::path& source, const fs::path& dest,
                           const PutOptions& options) {
    fs::path staged = root_ / kTemporaryDir / ("copy-" + NewId());
    CRM_TRY(MakeParent(key, staged));
    std::error_code ec;
    fs::copy_file(source, staged, ec);
    if (ec) return IoError("blob " + std::string(key) + ": cannot copy in: " + ec.message());
    Status synced = SyncPath(staged, O_RDONLY);
    if (synced.ok() && RenameFile(staged, dest, options.overwrite) != 0)
      synced = ErrnoError(key, "cannot store", errno);
    if (!synced.ok()) {
      ::unlink(staged.c_str());
      return synced;
    }
    ::unlink(source.c_str());
    return OkStatus();
  }

  fs::path root_;
};

}  // namespace

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string why) {
    return InvalidArgument("invalid blob key: " + why, {{"field", "key"}});
  };
  if (key.empty()) return bad("it is empty");
  if (key.size() > kMaxKeyLength) return bad("longer than 512 characters");
  if (key.front() == '/') return bad("it must be relative");
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/';
    if (!ok) return bad("only letters, digits, '.', '_', '-' and '/' are allowed");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return bad("empty path segment");
    if (segment.front() == '.') return bad("a segment may not start with '.'");
    if (segment.size() > kMaxSegmentLength) return bad("a segment is longer than 255 characters");
    start = end + 1;
  }
  return OkStatus();
}

Status BlobStore::List(const std::function<Status(const BlobInfo&)>&) {
  return Error(ErrorCode::kUnavailable, "this blob store cannot list its blobs");
}

std::string NewTemporaryKey() { return std::string(kTemporaryDir) + "/blob-" + NewId(); }

Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::filesystem::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return IoError("cannot create the blob folder " + root.string() + ": " + ec.message());
  fs::path absolute = fs::absolute(root, ec);
  if (ec) return IoError("cannot resolve the blob folder " + root.string() + ": " + ec.message());
  return std::unique_ptr<BlobStore>(new LocalBlobStore(absolute));
}

Status CopyToFile(BlobStore& blobs, std::string_view key, const std::filesystem::path& dest) {
  CRM_ASSIGN_OR_RETURN(auto reader, blobs.Open(key));
  std::FILE* out = std::fopen(dest.c_str(), "wb");
  if (!out) return Error(ErrorCode::kInternal, "cannot create " + dest.string());
  std::vector<char> buf(1 << 20);
  int64_t at = 0;
  for (;;) {
    auto got = reader->ReadAt(at, buf.data(), buf.size());
    if (!got.ok() || (*got > 0 && std::fwrite(buf.data(), 1, *got, out) != *got)) {
      std::fclose(out);
      std::filesystem::remove(dest);
      return got.ok() ? Error(ErrorCode::kInternal, "cannot write " + dest.string())
                      : got.take_error();
    }
    if (*got == 0) break;
    at += static_cast<int64_t>(*got);
  }
  if (std::fclose(out) != 0) {
    std::filesystem::remove(dest);
    return Error(ErrorCode::kInternal, "cannot write " + dest.string());
  }
  return OkStatus();
}

}  // namespace crm::blobs
