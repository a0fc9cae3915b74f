// The few cryptographic and encoding helpers the project needs, on OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nukihil::crypto {

// Raw 32-byte HMAC-SHA256 / 20-byte HMAC-SHA1 of `data` keyed with `key`.
std::string hmacSha256(std::string_view key, std::string_view data);
std::string hmacSha1(std::string_view key, std::string_view data);
std::string sha256(std::string_view data);

std::string toHex(std::string_view bytes);  // lower case
std::string base64Encode(std::string_view bytes);
// Standard alphabet with padding; nullopt for anything else.
std::optional<std::string> base64Decode(std::string_view text);

// `n` bytes from the operating system's generator (OpenSSL RAND_bytes): for secrets such as
// session ids, never for anything that must replay from a seed.
std::string randomBytes(size_t n);

// Compares in time independent of where the inputs differ.
bool constantTimeEqual(std::string_view a, std::string_view b);

}  // namespace nukihil::crypto
