// Faults planted between the adapter and the webhook recorder, to check the checker: each
// rewrites what the receiver gets the way a small adapter bug would, once per run. The teeth
// tests and `nukihil explore --plant` use them; normal runs never do.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/webhook_recorder.h"

namespace nukihil::scenarios {

// "drop-resolved": the first UpdateAction RESOLVED is acknowledged but never reaches the
//   platform;
// "resend-new-id": the first UpdateAction PENDING arrives twice, the copy under a new id;
// "swap-setstate": the first LOCK.isLocked SetState carrying an actionId is held back and
//   delivered after the device's next webhook;
// "early-pin-setstate": the first PENDING of a createPin is preceded by a forged
//   pinCodeCredentials SetState that already lists the new code (before its sync).
const std::vector<std::string>& plantedFaultNames();

// A fresh tamper for one run; `touched` (if given) is set once the fault has landed. Throws
// std::invalid_argument for an unknown name.
WebhookRecorder::Tamper plantedFault(const std::string& name,
                                     std::shared_ptr<std::atomic<bool>> touched = nullptr);

}  // namespace nukihil::scenarios
