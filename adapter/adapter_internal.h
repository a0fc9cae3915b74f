// What the Adapter's source files share (adapter.cc, store.cc, discovery.cc, lock_reports.cc,
// pin_reconcile.cc, actions.cc, views.cc): trait names and the readings of Nuki's numbers they
// all need. Not part of the adapter's interface: include it only from those files.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "adapter/adapter.h"
#include "adapter/nuki_codec.h"

namespace nukihil::adapter {

inline constexpr const char* kLock = "LOCK";
inline constexpr const char* kBattery = "BATTERY_LEVEL";
inline constexpr const char* kPins = "BETA_PIN_CODE_CREDENTIALS";
inline constexpr const char* kConnectivity = "BETA_CONNECTIVITY";
inline constexpr size_t kSeenLogs = 64;

// SPEC §5: lock state 1 → locked; 3, 5, 6 → unlocked; the others (moving, motor blocked) say
// nothing about isLocked.
inline std::optional<bool> isLockedOf(int state) {
  if (state == nuki::kLocked) return true;
  if (state == nuki::kUnlocked || state == nuki::kUnlatched || state == nuki::kUnlockedLockNGo)
    return false;
  return std::nullopt;
}

// The motor is on its way (2, 4, 7): a completed action's outcome waits for the state after.
inline bool isMoving(int state) {
  return state == nuki::kUnlocking || state == nuki::kLocking || state == nuki::kUnlatching;
}

inline std::string modelOf(const NukiLock& l) {
  return l.wifi ? "Nuki Smart Lock 3.0 Pro" : "Nuki Smart Lock 3.0";
}

inline nlohmann::json pinsJson(const std::vector<PinCredential>& pins) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : pins)
    out.push_back(p.toJson());
  return out;
}

inline void sortPins(std::vector<PinCredential>& pins) {
  std::sort(pins.begin(), pins.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
}

}  // namespace nukihil::adapter
