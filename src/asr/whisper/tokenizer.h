// Whisper's tokenizer, built from a model file's vocabulary: byte-level BPE (tiktoken's rules:
// GPT-2 pre-tokenisation, then merging the adjacent pair whose concatenation has the lowest
// id), plus the special tokens that follow the text vocabulary (end of text, start of
// transcript, the 99 or 100 language tokens, task tokens, timestamps).
//
// Decoding joins the raw bytes of the tokens and only then turns them into UTF-8, so a
// character split over two tokens (French accents, CJK, emoji) comes out whole; invalid bytes
// become U+FFFD. Utf8Accumulator does the same incrementally for streamed output.
//
// Some distributed model files store the single-byte tokens 0x80-0xFF (ids 94..255) as U+FFFD;
// their bytes are restored from GPT-2's fixed byte order, and other damaged entries are left
// out of encoding (they can still be decoded, to what the file holds).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace crm::asr::whisper {

// ISO 639-1 (and a few 639-3) codes in Whisper's language-token order; the first 99 are in
// every multilingual model, "yue" is the 100th (large-v3 and later).
const std::vector<std::string>& WhisperLanguages();

class Tokenizer {
 public:
  // vocab: raw bytes per id as stored in the file; n_vocab: the model's vocabulary size
  // (51864 English-only, 51865 multilingual, 51866 large-v3).
  static Result<Tokenizer> Create(const std::vector<std::string>& vocab, int n_vocab);

  int n_vocab() const { return n_vocab_; }
  bool multilingual() const { return multilingual_; }
  int num_languages() const { return num_languages_; }

  int eot() const { return eot_; }
  int sot() const { return sot_; }
  int translate() const { return translate_; }
  int transcribe() const { return transcribe_; }
  int sot_lm() const { return sot_lm_; }
  int sot_prev() const { return sot_prev_; }
  int no_speech() const { return no_speech_; }
  int no_timestamps() const { return no_timestamps_; }
  int timestamp_begin() const { return timestamp_begin_; }
  bool IsTimestamp(int id) const { return id >= timestamp_begin_; }
  bool IsText(int id) const { return id >= 0 && id < eot_; }

  // Language token of an ISO code ("fr"), or -1 when the model does not have it.
  int LanguageToken(std::string_view code) const;
  // ISO code of a language token; empty when `id` is not one.
  std::string LanguageCode(int id) const;
  bool IsLanguageToken(int id) const { return id > sot_ && id <= sot_ + num_languages_; }

  std::vector<int> Encode(std::string_view text) const;
  // Text of the text tokens among `ids` (special and timestamp tokens are skipped), valid UTF-8.
  std::string Decode(const std::vector<int>& ids) const;
  // Raw bytes of a text token; "<|...|>" names for special tokens ("<|0.40|>" for timestamps).
  std::string TokenText(int id) const;

  // Whisper's "non-speech" set (suppress_tokens = -1): symbols and music signs that are not
  // spoken words, sorted.
  std::vector<int> NonSpeechTokens() const;

 private:
  std::vector<int> EncodePiece(std::string_view piece) const;

  int n_vocab_ = 0;
  bool multilingual_ = false;
  int num_languages_ = 0;
  int eot_ = 0, sot_ = 0, translate_ = 0, transcribe_ = 0, sot_lm_ = 0, sot_prev_ = 0;
  int no_speech_ = 0, no_timestamps_ = 0, timestamp_begin_ = 0;
  std::vector<std::string> bytes_;               // per text token id
  std::unordered_map<std::string, int> ranks_;   // bytes -> id, for encoding
};

// Makes `bytes` valid UTF-8, replacing each invalid sequence by U+FFFD.
std::string SanitizeUtf8(std::string_view bytes);
// True when `bytes` ends inside a multibyte character (more bytes are needed to complete it).
bool EndsInsideUtf8Char(std::string_view bytes);

}  // namespace crm::asr::whisper
