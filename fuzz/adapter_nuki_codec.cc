// The adapter's decoders of what Nuki Web sends (adapter/nuki_codec.h): smartlock, auth, log
// and webhook lists and the decentral webhook events. Bytes from the network, so: no crash or
// sanitizer report whatever they are, and a decoded value re-encodes without throwing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapter/nuki_codec.h"
#include "adapter/pin_codes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nukihil::adapter;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string error;
  switch (data[0] % 6) {
    case 0:
      decodeSmartlocks(body, error);
      break;
    case 1:
      if (auto auths = decodeAuths(body, error)) {
        for (const auto& a : *auths) {
          const PinCredential pin = fromNukiAuth(a);
          (void)encodeAuthUpdate(toNukiFields(pin));
        }
      }
      break;
    case 2:
      decodeLogs(body, error);
      break;
    case 3:
      decodeEvent(body, error);
      break;
    case 4:
      decodeWebhook(body, error);
      break;
    default:
      decodeWebhooks(body, error);
      break;
  }
  return 0;
}
