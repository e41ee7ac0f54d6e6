#include "asr/remote/chunking.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace crm::asr::remote {
namespace {

std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

EncodedAudio EncodeWav(const std::vector<float>& pcm, int sample_rate) {
  return {audio::EncodeWav(pcm, sample_rate), "chunk.wav", "audio/wav"};
}

// Owns the FFmpeg objects of one Ogg/Opus encoding.
struct OpusJob {
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  AVStream* stream = nullptr;
  ~OpusJob() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&codec);
    if (format != nullptr) {
      if (format->pb != nullptr) {
        uint8_t* leftover = nullptr;
        avio_close_dyn_buf(format->pb, &leftover);
        av_free(leftover);
      }
      avformat_free_context(format);
    }
  }

  Status Drain() {
    while (true) {
      int err = avcodec_receive_packet(codec, packet);
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return OkStatus();
      if (err < 0) return Internal("opus encoding failed: " + AvErrorText(err));
      av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      err = av_interleaved_write_frame(format, packet);
      if (err < 0) return Internal("ogg muxing failed: " + AvErrorText(err));
    }
  }
};

Result<EncodedAudio> EncodeOggOpus(const AVCodec* encoder, const std::vector<float>& pcm,
                                   int sample_rate, int bitrate) {
  OpusJob job;
  int err = avformat_alloc_output_context2(&job.format, nullptr, "ogg", nullptr);
  if (err < 0) return Internal("no ogg muxer: " + AvErrorText(err));
  job.codec = avcodec_alloc_context3(encoder);
  job.frame = av_frame_alloc();
  job.packet = av_packet_alloc();
  if (!job.codec || !job.frame || !job.packet) return Internal("out of memory");
  job.codec->sample_fmt = AV_SAMPLE_FMT_FLT;
  job.codec->sample_rate = sample_rate;
  job.codec->bit_rate = bitrate;
  job.codec->time_base = {1, sample_rate};
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  av_channel_layout_copy(&job.codec->ch_layout, &mono);
  av_opt_set(job.codec->priv_data, "vbr", "off", 0);
  av_opt_set(job.codec->priv_data, "application", "voip", 0);
  if (job.format->oformat->flags & AVFMT_GLOBALHEADER)
    job.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  err = avcodec_open2(job.codec, encoder, nullptr);
  if (err < 0) return Internal("the opus encoder failed to start: " + AvErrorText(err));
  job.stream = avformat_new_stream(job.format, nullptr);
  if (job.stream == nullptr) return Internal("out of memory");
  avcodec_parameters_from_context(job.stream->codecpar, job.codec);
  job.stream->time_base = {1, sample_rate};
  if ((err = avio_open_dyn_buf(&job.format->pb)) < 0) return Internal(AvErrorText(err));
  if ((err = avformat_write_header(job.format, nullptr)) < 0)
    return Internal("ogg header: " + AvErrorText(err));

  const int frame_size = job.codec->frame_size > 0 ? job.codec->frame_size : 320;
  for (size_t pos = 0; pos < pcm.size(); pos += frame_size) {
    const int n = static_cast<int>(std::min<size_t>(frame_size, pcm.size() - pos));
    av_frame_unref(job.frame);
    job.frame->nb_samples = n;
    job.frame->format = AV_SAMPLE_FMT_FLT;
    job.frame->sample_rate = sample_rate;
    av_channel_layout_copy(&job.frame->ch_layout, &mono);
    if ((err = av_frame_get_buffer(job.frame, 0)) < 0) return Internal(AvErrorText(err));
    std::memcpy(job.frame->data[0], pcm.data() + pos, n * sizeof(float));
    job.frame->pts = static_cast<int64_t>(pos);
    if ((err = avcodec_send_frame(job.codec, job.frame)) < 0)
      return Internal("opus encoding failed: " + AvErrorText(err));
    CRM_TRY(job.Drain());
  }
  avcodec_send_frame(job.codec, nullptr);
  CRM_TRY(job.Drain());
  if ((err = av_write_trailer(job.format)) < 0) return Internal(AvErrorText(err));

  uint8_t* data = nullptr;
  int size = avio_close_dyn_buf(job.format->pb, &data);
  job.format->pb = nullptr;
  EncodedAudio out{std::string(reinterpret_cast<char*>(data), size), "chunk.ogg", "audio/ogg"};
  av_free(data);
  return out;
}

const AVCodec* OpusEncoder() { return avcodec_find_encoder_by_name("libopus"); }

}  // namespace

double EncodedBytesPerSecond(int sample_rate, const EncoderOptions& options) {
  if (OpusEncoder() == nullptr) return sample_rate * 2.0;
  // Ogg pages add about 1.5 % at these rates; 5 % leaves margin.
  return options.opus_bitrate / 8.0 * 1.05;
}

Result<EncodedAudio> EncodeChunk(const std::vector<float>& pcm, int sample_rate,
                                 const EncoderOptions& options) {
  if (const AVCodec* opus = OpusEncoder())
    return EncodeOggOpus(opus, pcm, sample_rate, options.opus_bitrate);
  return EncodeWav(pcm, sample_rate);
}

size_t FindQuietCut(const float* pcm, size_t from, size_t to, int sample_rate) {
  const size_t window = std::max<size_t>(1, sample_rate / 10);
  if (to <= from + window) return to;
  const size_t hop = std::max<size_t>(1, window / 4);
  double best = std::numeric_limits<double>::max();
  size_t best_at = to;
  // Scanning backwards prefers the latest of equally quiet points: fewer, longer chunks.
  for (size_t start = to - window;; start -= std::min(hop, start - from)) {
    double energy = 0;
    for (size_t i = start; i < start + window; ++i) energy += double(pcm[i]) * pcm[i];
    if (energy < best * 0.999) {
      best = energy;
      best_at = start + window / 2;
    }
    if (start == from) break;
  }
  return best_at;
}

ChunkSplitter::ChunkSplitter(audio::PcmStream* stream, int sample_rate, const SplitOptions& options)
    : stream_(stream), sample_rate_(sample_rate), options_(options) {}

Status ChunkSplitter::Fill(size_t target) {
  while (!eof_ && buffer_.size() < target) {
    size_t old = buffer_.size();
    buffer_.resize(target);
    CRM_ASSIGN_OR_RETURN(size_t got, stream_->Read(buffer_.data() + old, target - old));
    buffer_.resize(old + got);
    if (got == 0) eof_ = true;
  }
  return OkStatus();
}

Result<AudioChunk> ChunkSplitter::Next() {
  if (done_) return Internal("ChunkSplitter::Next called after the last chunk");
  const size_t limit = static_cast<size_t>(options_.chunk_seconds * sample_rate_);
  const size_t overlap = static_cast<size_t>(options_.overlap_seconds * sample_rate_);
  CRM_TRY(Fill(limit + 1));
  AudioChunk chunk;
  chunk.first_sample = buffer_start_;
  chunk.keep_from = keep_from_;
  if (buffer_.size() <= limit) {
    chunk.pcm = std::move(buffer_);
    buffer_.clear();
    chunk.last = true;
    done_ = true;
    return chunk;
  }
  // Cut at the quietest moment of the last search_seconds before the limit, never so early
  // that the next chunk would start before this one (the overlap must move forward).
  const size_t search = static_cast<size_t>(options_.search_seconds * sample_rate_);
  const size_t earliest = std::max(limit > search ? limit - search : 0, overlap + limit / 2);
  const size_t cut = FindQuietCut(buffer_.data(), std::min(earliest, limit), limit, sample_rate_);
  const size_t next_start = cut > overlap ? cut - overlap : cut;
  chunk.pcm.assign(buffer_.begin(), buffer_.begin() + cut);
  chunk.keep_until = buffer_start_ + static_cast<int64_t>(cut - overlap / 2);
  keep_from_ = chunk.keep_until;
  buffer_.erase(buffer_.begin(), buffer_.begin() + next_start);
  buffer_start_ += static_cast<int64_t>(next_start);
  return chunk;
}

}  // namespace crm::asr::remote
