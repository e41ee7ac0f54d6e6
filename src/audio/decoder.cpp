// FFmpeg-backed implementation of decoder.h.
//
// One PcmStream owns a demuxer, a decoder and a resampler. Reads pull packets only as far as the
// caller asks, so memory stays bounded by one decoded frame plus the caller's buffer. The
// resampler downmixes with equal weights (the mean of the channels) so that a voice recorded on
// one channel of a stereo file keeps half its amplitude instead of being boosted or clipped.
#include "audio/decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>

#include "common/log.h"

namespace crm::audio {
namespace {

// Packets the opening check may read before deciding that nothing decodes.
constexpr int kMaxPacketsBeforeFirstFrame = 500;
// Holes between frames shorter than this are timestamp jitter; longer than the maximum, a
// broken timestamp rather than lost audio. Neither is filled.
constexpr double kMinGapSeconds = 0.02;
constexpr double kMaxGapSeconds = 30.0;

std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

// FFmpeg logs to stderr by default; route it to our structured log at debug level instead.
void FfmpegLogCallback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > AV_LOG_WARNING || log::MinLevel() > log::Level::kDebug) return;
  static thread_local int print_prefix = 1;
  char line[1024];
  av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!text.empty()) log::Debug("ffmpeg", {{"detail", std::string(text)}});
}

void SilenceFfmpegLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_WARNING);
    av_log_set_callback(FfmpegLogCallback);
  });
}

// Demuxers that open files which are not recordings (images, text art, raw binary dumps).
bool IsNonMediaDemuxer(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kNames = {"image2", "tty", "bin", "xbin",
                                                             "adf",    "idf", "ico"};
  for (auto n : kNames)
    if (name == n) return true;
  return name.size() > 5 && name.substr(name.size() - 5) == "_pipe";
}

// Demuxers that read other files or URLs named inside the file (playlists, concatenation
// lists, manifests): an uploaded file must never make the server read anything else.
bool IsReferencingDemuxer(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "hls", "concat", "dash", "imf", "webm_dash_manifest", "ffmetadata", "sdp", "rtsp"};
  for (auto n : kNames)
    if (name == n) return true;
  return false;
}

constexpr size_t kProbeBytes = 256 * 1024;
constexpr int kAvioBufferBytes = 64 * 1024;

// The demuxer FFmpeg would pick from the file's first bytes with confidence, or "".
std::string GuessFormatOf(std::vector<unsigned char>& buf, size_t n) {
  AVProbeData pd{};
  pd.filename = "";
  pd.buf = buf.data();
  pd.buf_size = static_cast<int>(n);
  int score = 0;
  const AVInputFormat* fmt = av_probe_input_format3(&pd, 1, &score);
  if (fmt == nullptr || score <= AVPROBE_SCORE_RETRY) return {};
  return fmt->name;
}

std::string GuessFormat(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::vector<unsigned char> buf(kProbeBytes + AVPROBE_PADDING_SIZE, 0);
  size_t n = std::fread(buf.data(), 1, kProbeBytes, f);
  std::fclose(f);
  return GuessFormatOf(buf, n);
}

std::string GuessFormat(ByteSource& source) {
  std::vector<unsigned char> buf(kProbeBytes + AVPROBE_PADDING_SIZE, 0);
  auto n = source.ReadAt(0, buf.data(), kProbeBytes);
  if (!n.ok()) return {};
  return GuessFormatOf(buf, *n);
}

// AVIOContext callbacks over a ByteSource.
struct AvioCursor {
  ByteSource* source = nullptr;
  int64_t pos = 0;
};

int AvioRead(void* opaque, uint8_t* buf, int size) {
  auto* c = static_cast<AvioCursor*>(opaque);
  auto n = c->source->ReadAt(c->pos, buf, static_cast<size_t>(size));
  if (!n.ok()) return AVERROR(EIO);
  if (*n == 0) return AVERROR_EOF;
  c->pos += static_cast<int64_t>(*n);
  return static_cast<int>(*n);
}

int64_t AvioSeek(void* opaque, int64_t offset, int whence) {
  auto* c = static_cast<AvioCursor*>(opaque);
  const int64_t size = c->source->size();
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return size;
    case SEEK_SET: break;
    case SEEK_CUR: offset += c->pos; break;
    case SEEK_END: offset += size; break;
    default: return AVERROR(EINVAL);
  }
  if (offset < 0) return AVERROR(EINVAL);
  c->pos = offset;
  return offset;
}

Error NotMedia(const std::string& why) {
  return Error(ErrorCode::kUnsupportedMediaType,
               "the file is not an audio or video recording (" + why +
                   "); upload a recording such as wav, mp3, m4a, ogg, flac, webm or mp4",
               {{"reason", why}});
}

Error Undecodable(const std::string& why) {
  return Error(ErrorCode::kUndecodable,
               "no audio could be decoded from the file (" + why +
                   "); check that the recording is complete and plays, or export it again",
               {{"reason", why}});
}

class FfmpegPcmStream final : public PcmStream {
 public:
  ~FfmpegPcmStream() override {
    swr_free(&swr_);
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
    if (avio_ != nullptr) {
      av_freep(&avio_->buffer);
      avio_context_free(&avio_);
    }
  }

  Status Init(const std::string& path, int sample_rate) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return NotFound("audio file not found: " + path);
    if (!S_ISREG(st.st_mode)) return InvalidArgument("not a regular file: " + path);
    return InitWith(nullptr, path, st.st_size, sample_rate);
  }

  Status Init(std::shared_ptr<ByteSource> source, int sample_rate) {
    if (!source) return InvalidArgument("no audio source");
    const int64_t size = source->size();
    return InitWith(std::move(source), "", size, sample_rate);
  }

  // `source` null: the file at `path`; else `source` through an AVIOContext.
  Status InitWith(std::shared_ptr<ByteSource> source, const std::string& path, int64_t size,
                  int sample_rate) {
    path_ = path;
    sample_rate_ = sample_rate;
    if (sample_rate <= 0 || sample_rate > 384000)
      return InvalidArgument("sample rate must be between 1 and 384000 Hz");
    info_.size_bytes = size;
    if (size == 0) return Undecodable("the file is empty");

    SilenceFfmpegLogging();
    const std::string guessed = source ? GuessFormat(*source) : GuessFormat(path);
    if (IsReferencingDemuxer(guessed))
      return NotMedia("it is a '" + guessed + "' list pointing to other files");
    // Only the file itself may be read: no network protocol, a path is never read as a
    // protocol name ("concat:...", "http:..."), and through a ByteSource no protocol at all.
    AVDictionary* open_options = nullptr;
    int err = 0;
    if (source) {
      source_ = std::move(source);
      cursor_.source = source_.get();
      auto* buffer = static_cast<unsigned char*>(av_malloc(kAvioBufferBytes));
      if (buffer == nullptr) return Internal("out of memory");
      avio_ = avio_alloc_context(buffer, kAvioBufferBytes, 0, &cursor_, AvioRead, nullptr,
                                 AvioSeek);
      if (avio_ == nullptr) {
        av_free(buffer);
        return Internal("out of memory");
      }
      format_ = avformat_alloc_context();
      if (format_ == nullptr) return Internal("out of memory");
      format_->pb = avio_;
      format_->flags |= AVFMT_FLAG_CUSTOM_IO;
      av_dict_set(&open_options, "protocol_whitelist", "none", 0);
      err = avformat_open_input(&format_, "", nullptr, &open_options);
    } else {
      av_dict_set(&open_options, "protocol_whitelist", "file", 0);
      err = avformat_open_input(&format_, ("file:" + path).c_str(), nullptr, &open_options);
    }
    av_dict_free(&open_options);
    if (err < 0) {
      // A recognisable container whose header cannot be read (an MP4 cut before its index, a
      // damaged header) is a broken recording, not a foreign file.
      if (!guessed.empty() && !IsNonMediaDemuxer(guessed))
        return Undecodable(
            "it looks like '" + guessed +
            "' but cannot be read, it may be truncated or damaged: " + AvErrorText(err));
      return NotMedia("its format was not recognised: " + AvErrorText(err));
    }
    std::string demuxer = format_->iformat->name;
    if (IsNonMediaDemuxer(demuxer) || IsReferencingDemuxer(demuxer))
      return NotMedia("it was read as '" + demuxer + "'");
    // A very weak guess (e.g. random bytes taken for headerless MP3) is not a recording.
    if (format_->probe_score <= AVPROBE_SCORE_RETRY / 2)
      return NotMedia("its format could only be guessed");
    err = avformat_find_stream_info(format_, nullptr);
    if (err < 0) return Undecodable("its streams could not be read: " + AvErrorText(err));

    bool any_media = false;
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      const AVStream* s = format_->streams[i];
      if (s->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) any_media = true;
      if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
          !(s->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        any_media = true;
        info_.has_video = true;
      }
    }
    if (!any_media) return NotMedia("it holds no audio or video stream");

    const AVCodec* decoder = nullptr;
    stream_index_ = av_find_best_stream(format_, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (stream_index_ == AVERROR_STREAM_NOT_FOUND)
      return Undecodable("the recording has no audio track");
    if (stream_index_ < 0 || decoder == nullptr)
      return Undecodable("no decoder for its audio codec");
    AVStream* stream = format_->streams[stream_index_];
    // Packets of other streams (video) are dropped by the demuxer instead of read and discarded.
    for (unsigned i = 0; i < format_->nb_streams; ++i)
      if (static_cast<int>(i) != stream_index_) format_->streams[i]->discard = AVDISCARD_ALL;

    codec_ = avcodec_alloc_context3(decoder);
    if (codec_ == nullptr) return Internal("out of memory allocating a decoder");
    err = avcodec_parameters_to_context(codec_, stream->codecpar);
    if (err < 0) return Undecodable("bad codec parameters: " + AvErrorText(err));
    codec_->pkt_timebase = stream->time_base;
    err = avcodec_open2(codec_, decoder, nullptr);
    if (err < 0) return Undecodable("the audio decoder failed to start: " + AvErrorText(err));

    info_.container = demuxer;
    info_.codec = decoder->name;
    info_.sample_rate = stream->codecpar->sample_rate;
    info_.channels = stream->codecpar->ch_layout.nb_channels;
    info_.bit_rate = format_->bit_rate > 0 ? format_->bit_rate : stream->codecpar->bit_rate;
    if (format_->duration != AV_NOPTS_VALUE && format_->duration > 0)
      info_.duration_seconds = static_cast<double>(format_->duration) / AV_TIME_BASE;
    else if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0)
      info_.duration_seconds = stream->duration * av_q2d(stream->time_base);

    packet_ = av_packet_alloc();
    frame_ = av_frame_alloc();
    if (packet_ == nullptr || frame_ == nullptr) return Internal("out of memory");

    // The stream only counts as audio once a frame actually decodes.
    CRM_TRY(FillUntilFirstSamples());
    if (pending_.empty()) {
      if (skipped_ > 0)
        return Undecodable(std::to_string(skipped_) + " damaged frames, none readable");
      return Undecodable("the audio track holds no samples");
    }
    if (info_.sample_rate == 0) info_.sample_rate = codec_->sample_rate;
    if (info_.channels == 0) info_.channels = codec_->ch_layout.nb_channels;
    return OkStatus();
  }

  Result<size_t> Read(float* out, size_t n) override {
    size_t done = 0;
    while (done < n) {
      if (pos_ == pending_.size()) {
        pending_.clear();
        pos_ = 0;
        if (finished_) break;
        CRM_TRY(DecodeMore());
        continue;
      }
      size_t take = std::min(n - done, pending_.size() - pos_);
      std::memcpy(out + done, pending_.data() + pos_, take * sizeof(float));
      pos_ += take;
      done += take;
    }
    return done;
  }

  const MediaInfo& info() const override { return info_; }
  int skipped_frames() const override { return skipped_; }
  // Samples delivered so far, for progress reporting.
  int64_t produced() const { return produced_; }

 private:
  Status FillUntilFirstSamples() {
    int packets = 0;
    while (pending_.empty() && !finished_ && packets++ < kMaxPacketsBeforeFirstFrame)
      CRM_TRY(DecodeMore());
    return OkStatus();
  }

  // Reads one packet of the audio stream (or flushes at the end) and appends what it decodes
  // to pending_. Sets finished_ once everything has been delivered.
  Status DecodeMore() {
    if (!draining_) {
      int err = av_read_frame(format_, packet_);
      if (err == AVERROR(EAGAIN)) return OkStatus();
      if (err < 0) {
        if (err != AVERROR_EOF)
          log::Debug("audio read stopped early", {{"reason", AvErrorText(err)}});
        draining_ = true;
        avcodec_send_packet(codec_, nullptr);
      } else {
        if (packet_->stream_index == stream_index_) {
          int send = avcodec_send_packet(codec_, packet_);
          if (send < 0 && send != AVERROR(EAGAIN) && send != AVERROR_EOF) NoteSkipped(send);
        }
        av_packet_unref(packet_);
      }
    }
    while (true) {
      int err = avcodec_receive_frame(codec_, frame_);
      if (err == AVERROR(EAGAIN)) break;
      if (err == AVERROR_EOF) {
        CRM_TRY(FlushResampler());
        finished_ = true;
        break;
      }
      if (err < 0) {
        NoteSkipped(err);
        if (draining_) {
          finished_ = true;
          break;
        }
        break;
      }
      Status s = Convert(frame_);
      av_frame_unref(frame_);
      CRM_TRY(s);
    }
    return OkStatus();
  }

  void NoteSkipped(int err) {
    if (skipped_++ == 0)
      log::Warn("skipping damaged audio frames", {{"path", path_}, {"reason", AvErrorText(err)}});
  }

  Status SetUpResampler(const AVFrame* f) {
    swr_free(&swr_);
    AVChannelLayout in_layout;
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f->ch_layout.nb_channels == 0) {
      av_channel_layout_default(&in_layout, std::max(1, f->ch_layout.nb_channels));
    } else if (av_channel_layout_copy(&in_layout, &f->ch_layout) < 0) {
      return Internal("cannot copy a channel layout");
    }
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int err =
        swr_alloc_set_opts2(&swr_, &mono, AV_SAMPLE_FMT_FLT, sample_rate_, &in_layout,
                            static_cast<AVSampleFormat>(f->format), f->sample_rate, 0, nullptr);
    const int channels = in_layout.nb_channels;
    av_channel_layout_uninit(&in_layout);
    if (err < 0) return Undecodable("cannot convert its sample format: " + AvErrorText(err));
    std::vector<double> matrix(channels, 1.0 / channels);
    err = swr_set_matrix(swr_, matrix.data(), channels);
    if (err >= 0) err = swr_init(swr_);
    if (err < 0) return Undecodable("cannot convert its sample format: " + AvErrorText(err));
    in_rate_ = f->sample_rate;
    in_format_ = f->format;
    in_channels_ = f->ch_layout.nb_channels;
    return OkStatus();
  }

  // When frames were lost (damage, a cut in the stream), the next frame's timestamp lies past
  // the end of the previous one: the hole is filled with silence so that everything after it
  // keeps its place in time, which transcripts and playback rely on.
  void FillGapBefore(const AVFrame* f) {
    const int64_t ts = f->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE || codec_->pkt_timebase.den == 0) {
      next_time_ = -1;
      return;
    }
    const double start = ts * av_q2d(codec_->pkt_timebase);
    const double gap = start - next_time_;
    if (next_time_ >= 0 && gap > kMinGapSeconds && gap < kMaxGapSeconds) {
      const size_t zeros = static_cast<size_t>(std::lround(gap * sample_rate_));
      pending_.insert(pending_.end(), zeros, 0.0f);
      produced_ += static_cast<int64_t>(zeros);
      log::Debug("filled a gap in the audio with silence",
                 {{"path", path_}, {"at_seconds", next_time_}, {"seconds", gap}});
    }
    next_time_ = start + static_cast<double>(f->nb_samples) / f->sample_rate;
  }

  Status Convert(const AVFrame* f) {
    if (f->nb_samples <= 0 || f->sample_rate <= 0) return OkStatus();
    FillGapBefore(f);
    if (swr_ == nullptr || f->sample_rate != in_rate_ || f->format != in_format_ ||
        f->ch_layout.nb_channels != in_channels_) {
      if (swr_ != nullptr) CRM_TRY(FlushResampler());
      CRM_TRY(SetUpResampler(f));
    }
    int capacity = swr_get_out_samples(swr_, f->nb_samples);
    if (capacity < 0) return Internal("resampler failure");
    size_t old = pending_.size();
    pending_.resize(old + capacity);
    uint8_t* out = reinterpret_cast<uint8_t*>(pending_.data() + old);
    int got = swr_convert(swr_, &out, capacity, const_cast<const uint8_t**>(f->extended_data),
                          f->nb_samples);
    if (got < 0) {
      pending_.resize(old);
      NoteSkipped(got);
      return OkStatus();
    }
    pending_.resize(old + got);
    produced_ += got;
    return OkStatus();
  }

  Status FlushResampler() {
    if (swr_ == nullptr) return OkStatus();
    int capacity = swr_get_out_samples(swr_, 0);
    if (capacity <= 0) return OkStatus();
    size_t old = pending_.size();
    pending_.resize(old + capacity);
    uint8_t* out = reinterpret_cast<uint8_t*>(pending_.data() + old);
    int got = swr_convert(swr_, &out, capacity, nullptr, 0);
    pending_.resize(old + std::max(got, 0));
    produced_ += std::max(got, 0);
    return OkStatus();
  }

  std::string path_;  // empty when read through a ByteSource
  std::shared_ptr<ByteSource> source_;
  AvioCursor cursor_;
  AVIOContext* avio_ = nullptr;
  int sample_rate_ = kSampleRate;
  MediaInfo info_;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  SwrContext* swr_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
  int stream_index_ = -1;
  int in_rate_ = 0;
  int in_format_ = -1;
  int in_channels_ = 0;
  std::vector<float> pending_;  // decoded, not yet handed out
  size_t pos_ = 0;
  double next_time_ = -1;  // where the previous frame ended, seconds; <0 when unknown
  bool draining_ = false;
  bool finished_ = false;
  int skipped_ = 0;
  int64_t produced_ = 0;
};

}  // namespace

Result<std::unique_ptr<PcmStream>> PcmStream::Open(const std::string& path, int sample_rate) {
  auto stream = std::make_unique<FfmpegPcmStream>();
  CRM_TRY(stream->Init(path, sample_rate));
  return std::unique_ptr<PcmStream>(std::move(stream));
}

Result<std::unique_ptr<PcmStream>> PcmStream::Open(std::shared_ptr<ByteSource> source,
                                                   int sample_rate) {
  auto stream = std::make_unique<FfmpegPcmStream>();
  CRM_TRY(stream->Init(std::move(source), sample_rate));
  return std::unique_ptr<PcmStream>(std::move(stream));
}

Result<MediaInfo> Probe(const std::string& path) {
  CRM_ASSIGN_OR_RETURN(auto stream, PcmStream::Open(path));
  return stream->info();
}

Result<MediaInfo> Probe(std::shared_ptr<ByteSource> source) {
  CRM_ASSIGN_OR_RETURN(auto stream, PcmStream::Open(std::move(source)));
  return stream->info();
}

Result<std::vector<float>> DecodeFile(const std::string& path, int sample_rate,
                                      const ProgressSink& progress) {
  CRM_ASSIGN_OR_RETURN(auto stream, PcmStream::Open(path, sample_rate));
  const double duration = stream->info().duration_seconds;
  std::vector<float> pcm;
  if (duration > 0 && duration < 24 * 3600)
    pcm.reserve(static_cast<size_t>(duration * sample_rate) + sample_rate);
  constexpr size_t kChunk = 1 << 16;
  while (true) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "decoding was cancelled");
    size_t old = pcm.size();
    pcm.resize(old + kChunk);
    CRM_ASSIGN_OR_RETURN(size_t got, stream->Read(pcm.data() + old, kChunk));
    pcm.resize(old + got);
    if (got == 0) break;
    if (duration > 0)
      progress.Report(std::min(1.0, static_cast<double>(pcm.size()) / (duration * sample_rate)));
  }
  if (stream->skipped_frames() > 0)
    log::Info("decoded with damaged frames skipped",
              {{"path", path}, {"skipped_frames", stream->skipped_frames()}});
  progress.Report(1.0);
  return pcm;
}

std::string EncodeWav(const std::vector<float>& pcm, int sample_rate) {
  std::string out;
  const auto put = [&out](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  const uint32_t data_bytes = static_cast<uint32_t>(pcm.size() * 2);
  out.reserve(44 + data_bytes);
  out += "RIFF";
  put(36 + data_bytes, 4);
  out += "WAVEfmt ";
  put(16, 4);
  put(1, 2);  // PCM
  put(1, 2);  // mono
  put(static_cast<uint32_t>(sample_rate), 4);
  put(static_cast<uint32_t>(sample_rate) * 2, 4);
  put(2, 2);
  put(16, 2);
  out += "data";
  put(data_bytes, 4);
  for (float v : pcm) {
    const auto s = static_cast<int16_t>(std::lrint(std::clamp(v, -1.0f, 1.0f) * 32767.0f));
    put(static_cast<uint16_t>(s), 2);
  }
  return out;
}

}  // namespace crm::audio
