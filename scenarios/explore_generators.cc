// Exploration's generators: fleets and step fields, each biased toward the edges SPEC's rules
// draw (K1–K7 boundaries, the 100th code, the daily sync, DST days, long outages).
#include <algorithm>

#include "runtime/time.h"
#include "scenarios/explore_state.h"

namespace nukihil::scenarios::exploration {

using nlohmann::json;
namespace gen = rc::gen;

namespace {

// Instants a case may start at: ordinary days, and the eves of clock changes in the zones
// below (Europe 30 Mar / 26 Oct 2025 at 01:00Z, the US 9 Mar 2025 at 07:00Z, Lord Howe's
// half-hour change 6 Apr 2025 at 15:00Z).
const std::vector<std::string> kStarts = {"2025-01-06T10:00:00Z", "2025-03-29T23:30:00Z",
                                          "2025-10-25T23:30:00Z", "2025-03-09T05:30:00Z",
                                          "2025-04-06T13:30:00Z", "2025-06-14T12:00:00Z"};

const std::vector<std::string> kZones = {"UTC",          "Europe/Berlin",       "America/New_York",
                                         "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"};

int64_t number(const std::vector<int>& digits) {
  int64_t n = 0;
  for (int d : digits)
    n = n * 10 + d;
  return n;
}

// A valid code (6 digits 1–9, not starting with 12) the case has not used, near `seed`.
int64_t freshCode(const Abstract& s, std::vector<int> digits) {
  if (digits[0] == 1 && digits[1] == 2) digits[1] = 3;
  int64_t n = number(digits);
  auto valid = [](int64_t c) {
    const std::string t = std::to_string(c);
    return t.size() == 6 && t.find('0') == std::string::npos && t.rfind("12", 0) != 0;
  };
  while (!valid(n) || s.used.count(n))
    n = n >= 999999 ? 111111 : n + 1;
  return n;
}

rc::Gen<std::vector<int>> sixDigits() {
  return gen::container<std::vector<int>>(6, gen::inRange(1, 10));
}

}  // namespace

std::string hhmm(int minute) {
  minute = ((minute % 1440) + 1440) % 1440;
  char b[6];
  std::snprintf(b, sizeof b, "%02d:%02d", minute / 60, minute % 60);
  return b;
}

rc::Gen<int64_t> genCreateCode(const Abstract& s, size_t lock, bool edges) {
  return gen::exec([s, lock, edges]() -> int64_t {
    const auto& codes = s.locks[lock].codes;
    if (!edges) return freshCode(s, *sixDigits());
    const int kind = *gen::weightedElement<int>(
        {{70, 0}, {5, 1}, {5, 2}, {3, 3}, {3, 4}, {codes.empty() ? 0u : 14u, 5}});
    const int64_t fresh = freshCode(s, *sixDigits());
    switch (kind) {
      case 1: {  // K2: a 0 somewhere
        std::string t = std::to_string(fresh);
        t[size_t(*gen::inRange(0, 6))] = '0';
        return std::stoll(t);
      }
      case 2:  // K3: starts with 12
        return 120000 + fresh % 10000;
      case 3:  // K1: five digits
        return fresh / 10;
      case 4:  // K1: seven digits
        return fresh * 10 + 1;
      case 5:  // K3 uniqueness: a code already on the lock or on its way there
        return *gen::elementOf(codes);
      default:
        return fresh;
    }
  });
}

rc::Gen<std::string> genPinName() {
  return gen::weightedOneOf<std::string>({
      {70, gen::map(gen::inRange(1, 1000), [](int n) { return "Guest " + std::to_string(n); })},
      {6, gen::just(std::string("Cleaner of the house"))},   // 20: the longest allowed
      {6, gen::just(std::string("Cleaner of the houses"))},  // 21: one too many
      {6, gen::just(std::string("Gäste im Erdgeschoß!"))},   // 20 code points, more bytes
      {4, gen::just(std::string())},                         // empty
  });
}

rc::Gen<json> genSchedules(const Abstract& s) {
  return gen::exec([s]() -> json {
    json p = json::object();
    const int kind = *gen::weightedElement<int>({{60, 0}, {15, 1}, {18, 2}, {7, 3}});
    if (kind == 1 || kind == 3) {
      // Temporary: from around now, for hours to days; sometimes ending before it starts.
      const int64_t from = s.nowMs + int64_t(*gen::inRange(-2, 48)) * 3600 * 1000;
      int64_t until = from + int64_t(*gen::element(1, 2, 24, 72)) * 3600 * 1000;
      if (*gen::weightedElement<int>({{9, 0}, {1, 1}})) until = from - 3600 * 1000;
      p["temporarySchedules"] =
          json::array({json{{"startDatetime", formatRfc3339(timeFromMillis(from))},
                            {"endDatetime", formatRfc3339(timeFromMillis(until))}}});
    }
    if (kind == 2 || kind == 3) {
      static const std::vector<std::string> days = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
      std::string by;
      for (const auto& d : days)
        if (*gen::weightedElement<int>({{1, 0}, {1, 1}})) by += (by.empty() ? "" : ",") + d;
      if (by.empty()) by = "MO";
      const int hour = *gen::element(0, 2, 3, 8, 13, 22, 23);
      const int minute = *gen::element(0, 30, 59);
      // Ending the same local day, except now and then (SCHEDULE_INVALID).
      const int room = 1440 - hour * 60 - minute;
      int duration = *gen::element(10, 30, 60, 240, 1440);
      if (duration > room && *gen::weightedElement<int>({{3, 0}, {1, 1}})) duration = room;
      p["recurringSchedules"] = json::array(
          {json{{"rrule", "RRULE:FREQ=WEEKLY;BYDAY=" + by + ";BYHOUR=" + std::to_string(hour) +
                              ";BYMINUTE=" + std::to_string(minute)},
                {"duration", duration}}});
    }
    return p;
  });
}

rc::Gen<int64_t> genAdvanceSeconds() {
  return gen::weightedOneOf<int64_t>({
      {40, gen::element<int64_t>(1, 2, 3, 5, 8, 10, 30, 59, 60, 61)},  // motors, deliveries
      {30, gen::element<int64_t>(120, 299, 300, 301, 599, 600, 601, 900, 3600)},  // retries
      {12, gen::element<int64_t>(6 * 3600, 86399, 86400, 86401)},                 // around a day
      {5, gen::element<int64_t>(72 * 3600 - 1, 72 * 3600, 73 * 3600)},            // parking
      {13, gen::inRange<int64_t>(1, 7200)},
  });
}

rc::Gen<std::string> genLocalTime(const AbsLock& lock) {
  const int sync = lock.syncAt;
  return gen::weightedOneOf<std::string>({
      {25, gen::just(hhmm(sync - 1))},  // a minute before the sync: then advance 59 s
      {20, gen::just(hhmm(sync))},
      {25, gen::just(hhmm(sync + 1))},
      {10, gen::just(std::string("02:30"))},  // skipped or repeated on DST days in Europe
      {20, gen::map(gen::inRange(0, 1440), [](int m) { return hhmm(m); })},
  });
}

rc::Gen<json> genFault(bool polling) {
  return gen::exec([polling]() -> json {
    struct Route {
      const char* route;
      const char* method;  // "" for any
    };
    static const std::vector<Route> routes = {{"/smartlock/*/action/*", "POST"},
                                              {"/smartlock/*/action/lock", ""},
                                              {"/smartlock/*/action/unlock", ""},
                                              {"/smartlock/*/auth", "PUT"},
                                              {"/smartlock/*/auth/*", "POST"},
                                              {"/smartlock/*/auth/*", "DELETE"},
                                              {"/smartlock/*/auth", "GET"},
                                              {"/smartlock/*", "GET"},
                                              {"*", ""}};
    // Polling, the adapter's reads are on a schedule the model cannot follow through a fault
    // (SPEC §7 makes such a file an error): only its writes are faulted.
    static const std::vector<Route> writes = {{"/smartlock/*/action/*", "POST"},
                                              {"/smartlock/*/auth", "PUT"},
                                              {"/smartlock/*/auth/*", "POST"},
                                              {"/smartlock/*/auth/*", "DELETE"}};
    const Route r = *gen::elementOf(polling ? writes : routes);
    json f = {{"route", r.route}};
    if (*r.method) f["methods"] = json::array({r.method});
    const int effect = *gen::weightedElement<int>({{30, 0}, {12, 1}, {10, 2}, {10, 3}, {8, 4}});
    switch (effect) {
      case 0:
        f["status"] = *gen::element(500, 502, 503);
        break;
      case 1:
        f["status"] = 429;
        f["retryAfter"] = *gen::element(1, 30, 120, 700);
        break;
      case 2:
        f["status"] = *gen::element(400, 403, 404);
        break;
      case 3:
        f["reset"] = true;
        break;
      default:
        f["resetAfter"] = true;
        break;
    }
    // A few tries (within the retry budget of 5 or past it), or until cleared.
    if (*gen::weightedElement<int>({{4, 1}, {1, 0}})) f["count"] = *gen::element(1, 2, 4, 5, 6);
    return f;
  });
}

rc::Gen<int> genCharge() {
  return gen::weightedOneOf<int>(
      {{60, gen::element(0, 1, 19, 20, 21, 100)}, {40, gen::inRange(0, 101)}});
}

rc::Gen<Fleet> genFleet() {
  // At a fixed size, as the commands (genCommand): the size is the length of a case.
  return gen::resize(
      100, gen::exec([]() -> Fleet {
        Fleet f;
        Abstract& s = f.initial;
        const std::string start = *gen::elementOf(kStarts);
        s.startMs = s.nowMs = millisOf(*parseRfc3339(start));
        f.scenario = {{"name", "explored case"}, {"start", start}};
        s.nukiWebhooks = *gen::weightedElement<int>({{85, 1}, {15, 0}}) == 1;
        if (!s.nukiWebhooks) f.scenario["adapter"] = {{"nukiWebhooks", false}, {"pollSeconds", 60}};
        const int count = *gen::weightedElement<int>({{55, 1}, {35, 2}, {10, 3}});
        static const std::vector<std::string> names = {"Front door", "Back door", "Garage"};
        const bool shareBridge = *gen::weightedElement<int>({{1, 0}, {1, 1}}) == 1;
        json locks = json::array();
        for (int i = 0; i < count; ++i) {
          AbsLock l;
          l.name = names[size_t(i)];
          l.pro = *gen::weightedElement<int>({{6, 1}, {4, 0}}) == 1;
          l.zone = *gen::weightedElement<std::string>({{3, "UTC"},
                                                       {5, "Europe/Berlin"},
                                                       {2, "America/New_York"},
                                                       {1, "Asia/Kolkata"},
                                                       {1, "Australia/Lord_Howe"},
                                                       {1, "Pacific/Chatham"}});
          l.syncAt = *gen::weightedElement<int>({{8, 180}, {1, 150}, {1, 0}, {1, 1439}});
          json lj = {{"name", l.name}, {"model", l.pro ? "3.0 Pro" : "3.0"}, {"timezone", l.zone}};
          if (l.syncAt != 180) lj["syncAt"] = hhmm(l.syncAt);
          if (!l.pro && shareBridge) {
            lj["bridgeId"] = 1;
            l.bridge = 1;
          } else if (!l.pro) {
            l.bridge = 100 + i;  // a bridge of its own
          }
          if (*gen::weightedElement<int>({{9, 0}, {1, 1}})) {
            lj["online"] = false;
            l.online = false;
          }
          if (*gen::weightedElement<int>({{8, 0}, {2, 1}}))
            lj["batteryCharge"] = *gen::element(5, 20, 21, 60);
          // Codes: a few named ones, or (rarely) 99 so that the 100th and 101st are near.
          json codes = json::array();
          const bool full = *gen::weightedElement<int>({{24, 0}, {1, 1}}) == 1;
          const int n = full ? 99 : *gen::weightedElement<int>({{4, 0}, {3, 1}, {2, 2}, {1, 3}});
          for (int k = 0; k < n; ++k) {
            // The bulk of a full lock is not shrunk code by code (99 codes, each tried smaller,
            // would eat the shrinking budget): the count shrinks instead. The named few do.
            const int64_t code = freshCode(s, k < 3 ? *sixDigits() : *gen::noShrink(sixDigits()));
            s.used.insert(code);
            l.codes.push_back(code);
            json c = {{"name", "Family " + std::to_string(k + 1)}, {"code", code}};
            if (k < 3) {
              const std::string as = "f" + std::to_string(s.pins.size() + 1);
              c["as"] = as;
              s.pins.push_back(AbsPin{as, size_t(i), code});
            }
            codes.push_back(c);
          }
          if (!codes.empty()) lj["codes"] = codes;
          locks.push_back(lj);
          s.locks.push_back(std::move(l));
        }
        // Locks sharing a bridge go off and on line together.
        for (auto& l : s.locks)
          for (const auto& o : s.locks)
            if (l.bridge >= 0 && l.bridge == o.bridge && !o.online) l.online = false;
        f.scenario["locks"] = locks;
        return f;
      }));
}

}  // namespace nukihil::scenarios::exploration
