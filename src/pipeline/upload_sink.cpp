#include "pipeline/upload_sink.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/text.h"

namespace crm::pipeline {

namespace {

constexpr size_t kMaxPartHeaderBytes = 16 * 1024;

Error BadMultipart(const std::string& what) {
  return Error(ErrorCode::kBadRequest,
               "Corps multipart/form-data invalide : " + what + ". / Malformed multipart body.",
               nullptr, "invalid_multipart");
}

// The file being written, with its running hash and size. Writes go straight from the
// network buffer to write(2) (no stdio copy). No sync_file_range while streaming: it blocks the
// I/O thread (and every connection on it) when the disk queue is full. The file is flock()ed
// from creation to hand-over: SweepAbandonedIntake removes only files no live process holds.
class TempFile {
 public:
  TempFile() = default;
  ~TempFile() { Remove(); }

  Status Open(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    for (int attempt = 0; attempt < 3; ++attempt) {
      path_ = dir + "/" + std::string(kIntakePrefix) + NewId();
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd_ < 0) {
        path_.clear();
        return IoError("cannot create a temporary upload file in " + dir + ": " +
                       std::strerror(errno));
      }
      if (::flock(fd_, LOCK_EX) != 0) {
        Remove();
        return IoError("cannot lock a temporary upload file in " + dir);
      }
      // A sweeper may have taken the file between open and flock: then it is unlinked.
      struct stat st {};
      if (::fstat(fd_, &st) == 0 && st.st_nlink > 0) return OkStatus();
      ::close(fd_);
      fd_ = -1;
    }
    path_.clear();
    return IoError("cannot lock a temporary upload file in " + dir);
  }
  Status Append(const char* data, size_t n) {
    if (n == 0) return OkStatus();
    hash_.Update(data, n);
    size_t done = 0;
    while (done < n) {
      ssize_t w = ::write(fd_, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return IoError("writing the upload to disk failed (disk full?)");
      done += static_cast<size_t>(w);
    }
    size_ += static_cast<int64_t>(n);
    return OkStatus();
  }
  // Nothing is buffered here. The fsync that makes the file durable is the blob store's Put,
  // on a handler thread: an fsync on the I/O thread would stall every connection it serves.
  Status Close() { return OkStatus(); }
  void Remove() {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_.clear();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Hands the file (and its lock) over: this object no longer removes it.
  std::shared_ptr<UploadedFile> Release() {
    auto out = std::make_shared<UploadedFile>(path_, size_, hash_.FinishHex(), fd_);
    path_.clear();
    fd_ = -1;
    return out;
  }
  int64_t size() const { return size_; }

 private:
  std::string path_;
  int fd_ = -1;
  Sha256 hash_;
  int64_t size_ = 0;
};

class RawSink final : public http::BodySink {
 public:
  RawSink(int64_t max, std::string content_type)
      : max_(max), content_type_(std::move(content_type)) {}
  Status Open(const std::string& dir) { return file_.Open(dir); }
  Status Write(const char* data, size_t n) override {
    if (file_.size() + static_cast<int64_t>(n) > max_) return UploadTooLarge(max_);
    return file_.Append(data, n);
  }
  Status Finish(http::Request& req) override {
    CRM_TRY(file_.Close());
    auto up = file_.Release();
    up->content_type = content_type_;
    for (auto& [k, v] : req.query) up->fields.emplace(k, v);
    if (auto f = up->fields.find("filename"); f != up->fields.end()) up->filename = f->second;
    req.upload = up;
    return OkStatus();
  }
  void Abort() override { file_.Remove(); }

 private:
  int64_t max_;
  std::string content_type_;
  TempFile file_;
};

std::string HeaderParam(const std::string& header, const std::string& name) {
  // name="value" or name=value inside a Content-Disposition header.
  size_t pos = 0;
  std::string lower = ToLowerAscii(header);
  while ((pos = lower.find(name + "=", pos)) != std::string::npos) {
    bool boundary_ok = pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ';
    size_t start = pos + name.size() + 1;
    if (!boundary_ok) {
      pos = start;
      continue;
    }
    if (start < header.size() && header[start] == '"') {
      std::string out;
      for (size_t i = start + 1; i < header.size(); ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) {
          out += header[++i];
        } else if (header[i] == '"') {
          return out;
        } else {
          out += header[i];
        }
      }
      return out;
    }
    size_t end = header.find(';', start);
    return Trim(header.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return {};
}

// multipart/form-data, parsed as it streams. The body is seen as if preceded by CRLF so the
// first boundary looks like every other delimiter ("\r\n--boundary").
class MultipartSink final : public http::BodySink {
 public:
  MultipartSink(int64_t max, const std::string& boundary)
      : max_(max), delimiter_("\r\n--" + boundary), buf_("\r\n") {}
  Status Open(const std::string& dir) {
    dir_ = dir;
    return OkStatus();
  }

  Status Write(const char* data, size_t n) override {
    buf_.append(data, n);
    return Process();
  }

  Status Finish(http::Request& req) override {
    if (state_ != State::kDone) return BadMultipart("the closing boundary is missing");
    if (!file_) {
      return InvalidArgument(
          "Le fichier est manquant (champ « file »). / The file is missing (field \"file\").",
          {{"file", "required"}});
    }
    CRM_TRY(file_->Close());
    auto up = file_->Release();
    file_.reset();
    up->fields = std::move(fields_);
    for (auto& [k, v] : req.query) up->fields.emplace(k, v);
    up->filename = filename_;
    up->content_type = file_type_;
    req.upload = up;
    return OkStatus();
  }

  void Abort() override {
    if (file_) file_->Remove();
  }

 private:
  enum class State { kBody, kAfterDelimiter, kHeaders, kDone };
  enum class Target { kDiscard, kFile, kField };

  Status Process() {
    while (true) {
      switch (state_) {
        case State::kBody: {
          size_t pos = buf_.find(delimiter_);
          if (pos == std::string::npos) {
            size_t keep = std::min(buf_.size(), delimiter_.size() - 1);
            CRM_TRY(Emit(buf_.data(), buf_.size() - keep));
            buf_.erase(0, buf_.size() - keep);
            return OkStatus();
          }
          CRM_TRY(Emit(buf_.data(), pos));
          CRM_TRY(EndPart());
          buf_.erase(0, pos + delimiter_.size());
          state_ = State::kAfterDelimiter;
          break;
        }
        case State::kAfterDelimiter: {
          size_t i = 0;
          while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;
          if (buf_.size() < i + 2) return OkStatus();
          if (buf_.compare(i, 2, "--") == 0) {
            state_ = State::kDone;
            buf_.clear();
            return OkStatus();
          }
          if (buf_.compare(i, 2, "\r\n") != 0) return BadMultipart("bad boundary line");
          buf_.erase(0, i + 2);
          state_ = State::kHeaders;
          break;
        }
        case State::kHeaders: {
          size_t end = buf_.find("\r\n\r\n");
          if (end == std::string::npos) {
            if (buf_.size() > kMaxPartHeaderBytes) return BadMultipart("part headers too long");
            return OkStatus();
          }
          // The same bound when the whole part head arrived in one read.
          if (end > kMaxPartHeaderBytes) return BadMultipart("part headers too long");
          CRM_TRY(StartPart(buf_.substr(0, end)));
          buf_.erase(0, end + 4);
          state_ = State::kBody;
          break;
        }
        case State::kDone:
          buf_.clear();  // the epilogue is ignored
          return OkStatus();
      }
    }
  }

  Status StartPart(const std::string& headers) {
    std::string disposition, type;
    for (auto& line : Split(headers, '\n')) {
      std::string l = Trim(line);
      auto colon = l.find(':');
      if (colon == std::string::npos) continue;
      std::string name = ToLowerAscii(Trim(l.substr(0, colon)));
      std::string value = Trim(l.substr(colon + 1));
      if (name == "content-disposition") disposition = value;
      if (name == "content-type") type = value;
    }
    std::string name = HeaderParam(disposition, "name");
    if (name.empty()) return BadMultipart("a part has no name");
    if (name == "file") {
      if (file_) return BadMultipart("more than one file part");
      file_ = std::make_unique<TempFile>();
      CRM_TRY(file_->Open(dir_));
      filename_ = HeaderParam(disposition, "filename");
      file_type_ = type;
      target_ = Target::kFile;
      return OkStatus();
    }
    if (fields_.size() >= kMaxFields) return BadMultipart("too many fields");
    field_name_ = name;
    field_value_.clear();
    target_ = Target::kField;
    return OkStatus();
  }

  Status Emit(const char* data, size_t n) {
    if (n == 0) return OkStatus();
    switch (target_) {
      case Target::kDiscard:
        return OkStatus();
      case Target::kFile:
        if (file_->size() + static_cast<int64_t>(n) > max_) return UploadTooLarge(max_);
        return file_->Append(data, n);
      case Target::kField:
        if (field_value_.size() + n > kMaxFieldBytes)
          return Error(ErrorCode::kPayloadTooLarge,
                       "Champ « " + field_name_ + " » trop long. / Field too long.",
                       {{"field", field_name_}, {"max_bytes", kMaxFieldBytes}});
        field_value_.append(data, n);
        return OkStatus();
    }
    return OkStatus();
  }

  Status EndPart() {
    if (target_ == Target::kField) {
      // A repeated field (timestamp_granularities[]) keeps every value, comma-separated.
      auto [it, inserted] = fields_.emplace(field_name_, field_value_);
      if (!inserted) it->second += "," + field_value_;
    }
    target_ = Target::kDiscard;
    return OkStatus();
  }

  int64_t max_;
  std::string delimiter_;
  std::string buf_;
  std::string dir_;
  State state_ = State::kBody;
  Target target_ = Target::kDiscard;
  std::unique_ptr<TempFile> file_;
  std::string filename_, file_type_;
  std::string field_name_, field_value_;
  std::map<std::string, std::string> fields_;
};

}  // namespace

UploadedFile::~UploadedFile() {
  if (!released_ && !path_.empty()) ::unlink(path_.c_str());
  if (fd_ >= 0) ::close(fd_);  // releases the intake lock
}

Error UploadTooLarge(int64_t max_bytes) {
  return Error(ErrorCode::kPayloadTooLarge,
               "Fichier trop volumineux (maximum " + std::to_string(max_bytes) +
                   " octets). / File too large (maximum " + std::to_string(max_bytes) + " bytes).",
               {{"max_bytes", max_bytes}});
}

std::string MultipartBoundary(const std::string& content_type) {
  std::string lower = ToLowerAscii(content_type);
  if (lower.rfind("multipart/form-data", 0) != 0) return {};
  std::string b = HeaderParam(content_type, "boundary");
  if (b.size() > 70) return {};
  return b;
}

Result<std::unique_ptr<http::BodySink>> NewUploadSink(const http::Request& headers,
                                                      std::optional<uint64_t> content_length,
                                                      const UploadSinkOptions& options) {
  std::string type = headers.Header("Content-Type");
  bool multipart = ToLowerAscii(type).rfind("multipart/form-data", 0) == 0;
  if (options.multipart_only && !multipart)
    return Error(ErrorCode::kBadRequest,
                 "Envoyez le fichier en multipart/form-data (champ « file »). / Send the file as "
                 "multipart/form-data (field \"file\").",
                 nullptr, "invalid_multipart");
  if (multipart) {
    std::string boundary = MultipartBoundary(type);
    if (boundary.empty()) return BadMultipart("the boundary is missing from Content-Type");
    if (content_length &&
        static_cast<int64_t>(*content_length) > options.max_file_bytes + kEnvelopeAllowance)
      return UploadTooLarge(options.max_file_bytes);
    auto sink = std::make_unique<MultipartSink>(options.max_file_bytes, boundary);
    CRM_TRY(sink->Open(options.tmp_dir));
    return std::unique_ptr<http::BodySink>(std::move(sink));
  }
  if (content_length && static_cast<int64_t>(*content_length) > options.max_file_bytes)
    return UploadTooLarge(options.max_file_bytes);
  auto sink = std::make_unique<RawSink>(options.max_file_bytes, type);
  CRM_TRY(sink->Open(options.tmp_dir));
  return std::unique_ptr<http::BodySink>(std::move(sink));
}

std::shared_ptr<UploadedFile> TakeUpload(http::Request& req) {
  auto up = std::static_pointer_cast<UploadedFile>(req.upload);
  req.upload.reset();
  return up;
}

}  // namespace crm::pipeline
