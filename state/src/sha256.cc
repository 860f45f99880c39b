#include "state/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace state {

Hash256 sha256(std::initializer_list<std::span<const std::uint8_t>> parts) {
  thread_local struct Context {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md);
    }
  } context;
  Hash256 digest;
  unsigned int len = 0;
  bool ok = context.md && context.ctx && EVP_DigestInit_ex2(context.ctx, context.md, nullptr) == 1;
  for (auto part : parts) ok = ok && EVP_DigestUpdate(context.ctx, part.data(), part.size()) == 1;
  if (!ok || EVP_DigestFinal_ex(context.ctx, digest.data(), &len) != 1 || len != digest.size())
    std::abort();  // OpenSSL without SHA-256 cannot run this node at all
  return digest;
}

}  // namespace state
