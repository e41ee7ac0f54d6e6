#include "common/ids.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace crm {

bool InitCrypto() { return sodium_init() >= 0; }

std::string NewId() {
  static const char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  // Monotonic within the process (as the ULID specification describes): an id made in the same
  // millisecond as the previous one increments its random part, so ids sort in creation order.
  static std::mutex mu;
  static uint64_t last_ms = 0, last_hi = 0, last_lo = 0;
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  uint64_t hi, lo;  // 40 random bits each
  {
    std::lock_guard lock(mu);
    if (ms <= last_ms) {
      ms = last_ms;
      lo = (last_lo + 1) & ((uint64_t{1} << 40) - 1);
      hi = lo == 0 ? (last_hi + 1) & ((uint64_t{1} << 40) - 1) : last_hi;
    } else {
      unsigned char rnd[10];
      randombytes_buf(rnd, sizeof rnd);
      hi = lo = 0;
      for (int i = 0; i < 5; ++i) hi = (hi << 8) | rnd[i];
      for (int i = 5; i < 10; ++i) lo = (lo << 8) | rnd[i];
      lo &= ~uint64_t{0xFFFF};  // room to count up within the millisecond without wrapping
    }
    last_ms = ms;
    last_hi = hi;
    last_lo = lo;
  }
  std::string out(26, '0');
  for (int i = 9; i >= 0; --i) {  // 48-bit time in 10 chars
    out[i] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  for (int i = 17; i >= 10; --i) { out[i] = kAlphabet[hi & 31]; hi >>= 5; }
  for (int i = 25; i >= 18; --i) { out[i] = kAlphabet[lo & 31]; lo >>= 5; }
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  size_t len = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  std::string in(text);
  while (!in.empty() && in.back() == '=') in.pop_back();
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(), in.size(),
                        nullptr, &len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), bytes);
  return ToHex(raw);
}

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), bytes);
  return Base64UrlEncode(raw);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return ToHex(std::string_view(reinterpret_cast<char*>(h), sizeof h));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
    std::abort();  // out of memory or a broken OpenSSL: nothing sensible to hash with
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(const void* data, size_t n) {
  if (n > 0) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}

std::string Sha256::FinishHex() {
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), h, &len);
  return ToHex(std::string_view(reinterpret_cast<char*>(h), len));
}

}  // namespace crm
