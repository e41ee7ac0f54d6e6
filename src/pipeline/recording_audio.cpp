#include "pipeline/recording_audio.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/log.h"

namespace crm::pipeline {

namespace {

// When Speech() has to decode first, the share of its progress the decode takes.
constexpr double kDecodeShare = 0.7;
constexpr size_t kCopyChunkBytes = 1 << 20;

class BlobSource final : public audio::ByteSource {
 public:
  explicit BlobSource(std::unique_ptr<blobs::BlobReader> reader) : reader_(std::move(reader)) {}
  int64_t size() const override { return reader_->size(); }
  Result<size_t> ReadAt(int64_t offset, void* out, size_t n) override {
    return reader_->ReadAt(offset, out, n);
  }

 private:
  std::unique_ptr<blobs::BlobReader> reader_;
};

// A file without a name in `dir` (O_TMPFILE), else one unlinked at once.
Result<int> AnonymousFile(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
#ifdef O_TMPFILE
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
#endif
  std::string path = dir + "/" + audio::kDecodedFilePrefix + "media-XXXXXX";
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  int tmp = ::mkstemp(name.data());
  if (tmp < 0) return IoError("cannot create a temporary file in " + dir + ": " + std::strerror(errno));
  ::unlink(name.data());
  return tmp;
}

}  // namespace

Result<std::shared_ptr<audio::ByteSource>> OpenBlobSource(blobs::BlobStore& blobs,
                                                          std::string_view key) {
  CRM_ASSIGN_OR_RETURN(auto reader, blobs.Open(key));
  return std::shared_ptr<audio::ByteSource>(std::make_shared<BlobSource>(std::move(reader)));
}

RecordingAudio::RecordingAudio(std::string media_path, std::string tmp_dir, audio::VadOptions vad)
    : media_path_(std::move(media_path)), tmp_dir_(std::move(tmp_dir)), vad_(std::move(vad)) {}

RecordingAudio::RecordingAudio(std::shared_ptr<audio::ByteSource> media, std::string tmp_dir,
                               audio::VadOptions vad)
    : media_(std::move(media)), tmp_dir_(std::move(tmp_dir)), vad_(std::move(vad)) {}

RecordingAudio::~RecordingAudio() {
  if (copy_fd_ >= 0) ::close(copy_fd_);
}

Result<std::string> RecordingAudio::MediaPath() {
  if (!media_) return media_path_;
  if (copy_fd_ < 0) {
    CRM_ASSIGN_OR_RETURN(int fd, AnonymousFile(tmp_dir_));
    std::vector<char> buf(kCopyChunkBytes);
    int64_t at = 0;
    while (true) {
      auto got = media_->ReadAt(at, buf.data(), buf.size());
      if (!got.ok()) {
        ::close(fd);
        return got.take_error();
      }
      if (*got == 0) break;
      size_t done = 0;
      while (done < *got) {
        ssize_t w = ::write(fd, buf.data() + done, *got - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          ::close(fd);
          return IoError("cannot copy the recording to a temporary file (disk full?)");
        }
        done += static_cast<size_t>(w);
      }
      at += static_cast<int64_t>(*got);
    }
    copy_fd_ = fd;
  }
  return "/proc/self/fd/" + std::to_string(copy_fd_);
}

Result<const audio::SampleSource*> RecordingAudio::Samples(const ProgressSink& progress) {
  if (!file_) {
    if (media_) {
      CRM_ASSIGN_OR_RETURN(file_, audio::DecodedFile::Decode(media_, tmp_dir_, progress));
    } else {
      CRM_ASSIGN_OR_RETURN(file_, audio::DecodedFile::Decode(media_path_, tmp_dir_, progress));
    }
    log::Info("recording decoded",
              {{"seconds", file_->duration_seconds()}, {"codec", file_->info().codec}});
  }
  return static_cast<const audio::SampleSource*>(file_.get());
}

Result<const std::vector<audio::SpeechSegment>*> RecordingAudio::Speech(
    const ProgressSink& progress) {
  if (!have_speech_) {
    const double detect_from = decoded() ? 0.0 : kDecodeShare;
    CRM_ASSIGN_OR_RETURN(const audio::SampleSource* samples,
                         Samples(progress.Part(0.0, detect_from)));
    std::string warning;
    auto detector = audio::MakeVoiceActivityDetector(vad_, &warning);
    if (!warning.empty()) log::Warn(warning);
    CRM_ASSIGN_OR_RETURN(speech_,
                         audio::DetectSpeech(*detector, *samples, progress.Part(detect_from, 1.0)));
    have_speech_ = true;
  }
  return &speech_;
}

}  // namespace crm::pipeline
