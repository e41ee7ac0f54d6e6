// SampleSource implementations (sample_source.h).
#include "audio/sample_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>
#include <vector>

#include "common/log.h"

namespace crm::audio {
namespace {

// Samples decoded and written per step: 256 KiB of floats, small against any recording.
constexpr size_t kChunkSamples = 1 << 16;

Error DiskError(const std::string& what, int err) {
  return IoError(what + ": " + std::strerror(err) +
                 "; check that the temporary directory exists, is writable and has free space");
}

Status WriteAll(int fd, const float* data, size_t n) {
  const char* p = reinterpret_cast<const char*>(data);
  size_t left = n * sizeof(float);
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return DiskError("cannot write decoded audio to a temporary file", errno);
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  return OkStatus();
}

// An anonymous file in `dir`: the descriptor is all there is, so the space is freed whenever the
// process lets go. O_TMPFILE gives one that never has a name; on a file system without it, a
// file named kDecodedFilePrefix<pid>-<random> is created and unlinked at once.
Result<int> CreateUnlinkedFile(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create the temporary directory " + dir + ": " + ec.message());
#ifdef O_TMPFILE
  int anonymous = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (anonymous >= 0) return anonymous;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return DiskError("cannot create a temporary file in " + dir, errno);
  }
#endif
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::string path = (std::filesystem::path(dir) /
                              (std::string(kDecodedFilePrefix) + std::to_string(::getpid()) + "-" +
                               std::to_string(rd()) + ".f32"))
                                 .string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return DiskError("cannot create a temporary file in " + dir, errno);
    }
    ::unlink(path.c_str());
    return fd;
  }
  return IoError("cannot create a temporary file in " + dir + ": too many name collisions");
}

}  // namespace

Result<std::unique_ptr<DecodedFile>> DecodedFile::Decode(const std::string& media_path,
                                                         const std::string& dir,
                                                         const ProgressSink& progress,
                                                         int sample_rate) {
  CRM_ASSIGN_OR_RETURN(auto stream, PcmStream::Open(media_path, sample_rate));
  return FromStream(*stream, dir, progress, sample_rate);
}

Result<std::unique_ptr<DecodedFile>> DecodedFile::Decode(std::shared_ptr<ByteSource> media,
                                                         const std::string& dir,
                                                         const ProgressSink& progress,
                                                         int sample_rate) {
  CRM_ASSIGN_OR_RETURN(auto stream, PcmStream::Open(std::move(media), sample_rate));
  return FromStream(*stream, dir, progress, sample_rate);
}

Result<std::unique_ptr<DecodedFile>> DecodedFile::FromStream(PcmStream& stream_ref,
                                                             const std::string& dir,
                                                             const ProgressSink& progress,
                                                             int sample_rate) {
  PcmStream* stream = &stream_ref;
  // The object owns the descriptor from here, so every early return below closes it.
  std::unique_ptr<DecodedFile> file(new DecodedFile());
  CRM_ASSIGN_OR_RETURN(file->fd_, CreateUnlinkedFile(dir));
  file->sample_rate_ = sample_rate;
  file->info_ = stream->info();
  const double expected = file->info_.duration_seconds * sample_rate;
  std::vector<float> chunk(kChunkSamples);
  size_t total = 0;
  while (true) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "decoding was cancelled");
    CRM_ASSIGN_OR_RETURN(size_t got, stream->Read(chunk.data(), chunk.size()));
    if (got == 0) break;
    CRM_TRY(WriteAll(file->fd_, chunk.data(), got));
    total += got;
    if (expected > 0) progress.Report(std::min(1.0, static_cast<double>(total) / expected));
  }
  file->size_ = total;
  file->skipped_frames_ = stream->skipped_frames();
  if (file->skipped_frames_ > 0)
    log::Info("decoded with damaged frames skipped",
              {{"codec", file->info_.codec}, {"skipped_frames", file->skipped_frames_}});
  progress.Report(1.0);
  return file;
}

DecodedFile::~DecodedFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> DecodedFile::Read(size_t start, float* out, size_t n) const {
  if (start >= size_) return size_t{0};
  const size_t take = std::min(n, size_ - start);
  char* p = reinterpret_cast<char*>(out);
  size_t left = take * sizeof(float);
  off_t offset = static_cast<off_t>(start * sizeof(float));
  while (left > 0) {
    ssize_t r = ::pread(fd_, p, left, offset);
    if (r < 0) {
      if (errno == EINTR) continue;
      return DiskError("cannot read decoded audio back from its temporary file", errno);
    }
    if (r == 0) return IoError("the temporary file of decoded audio is shorter than written");
    p += r;
    left -= static_cast<size_t>(r);
    offset += r;
  }
  return take;
}

std::string ScratchDirectory(const std::string& preferred) {
  std::error_code ec;
  if (!preferred.empty() && std::filesystem::is_directory(preferred, ec)) return preferred;
  auto system_tmp = std::filesystem::temp_directory_path(ec);
  return ec ? std::string("/tmp") : system_tmp.string();
}

Result<int> RemoveStaleDecodedFiles(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return 0;
  int removed = 0;
  std::filesystem::directory_iterator it(dir, ec), end;
  if (ec) return IoError("cannot list " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError("cannot list " + dir + ": " + ec.message());
    const std::string name = it->path().filename().string();
    if (name.rfind(kDecodedFilePrefix, 0) != 0) continue;
    std::error_code rm;
    if (std::filesystem::remove(it->path(), rm)) ++removed;
  }
  if (removed > 0)
    log::Info("removed stale decoded audio files", {{"dir", dir}, {"count", removed}});
  return removed;
}

}  // namespace crm::audio
