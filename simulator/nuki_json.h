// The simulator's encoding of Nuki Web's JSON (Swagger 4.4.1 field names, types and order),
// and strict decoding of request bodies. The adapter has its own, separate encoding: a shared
// misunderstanding of the wire format would otherwise pass every test.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "simulator/world.h"

namespace nukihil::sim::wire {

using Json = nlohmann::ordered_json;

// Smartlock, as GET /smartlock/{id} answers. Cached on the lock until it changes.
const std::string& smartlock(const World& w, const Lock& l);
Json smartlockState(const Lock& l);
Json auth(const World& w, const Lock& l, const Auth& a);
Json log(const Lock& l, const LogEntry& e);
Json account(const Account& a);

// Webhook bodies (SPEC §4).
std::string deviceStatusBody(const Lock& l);
std::string deviceLogBody(const Lock& l, const LogEntry& e);
std::string deviceAuthBody(const World& w, const Lock& l, const Auth& a, bool deleted);
std::string masterDataBody(const World& w, const Lock& l);

// Error bodies (SPEC §2).
std::string detailMessage(std::string_view message);
std::string restletStatus(int status);  // 422, 429 and 5xx bodies as Restlet writes them
std::string lockedBody();               // 423

// Strict decoding. Each getter returns false and sets `error` (a 400 naming the parameter) if
// the field is present with the wrong type or out of the Swagger's range.
class Fields {
 public:
  explicit Fields(const nlohmann::json& object) : o_(object) {}
  bool has(const char* name) const { return o_.contains(name); }
  bool isNull(const char* name) const { return has(name) && o_.at(name).is_null(); }
  bool int32(const char* name, std::optional<int64_t>& out, Error& error) const;
  bool int64(const char* name, std::optional<int64_t>& out, Error& error) const;
  bool boolean(const char* name, std::optional<bool>& out, Error& error) const;
  bool string(const char* name, std::optional<std::string>& out, Error& error) const;
  // RFC 3339 date-time; an explicit null gives kUnset.
  bool dateTime(const char* name, std::optional<int64_t>& out, Error& error) const;

 private:
  const nlohmann::json& o_;
};

// Parses a JSON request body. An empty body is an empty object when `emptyIsObject`.
bool parseBody(const std::string& body, nlohmann::json& out, Error& error,
               bool emptyIsObject = false);
// Reads the SmartlockAuthCreate/Update/MultiUpdate fields.
bool authInput(const nlohmann::json& o, AuthInput& in, Error& error);
// A short rendering of a JSON value for error messages.
std::string shown(const nlohmann::json& v);

// Nuki's time zone id (Smartlock.Config.timezoneId) for an IANA zone.
int nukiTimezoneId(const std::string& iana);

}  // namespace nukihil::sim::wire
