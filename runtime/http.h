// HTTP as handlers see it: plain requests and responses, no sockets. The Beast server and
// client translate between these and the wire.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/time.h"

namespace nukihil::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // upper case, as sent: "GET"
  std::string target;  // path and query, as sent
  std::string authorization;
  std::string contentType;
  std::string body;
  Headers headers;   // every header field as received, in order
  std::string peer;  // "127.0.0.1:51234"
  // Filled by Router::match: the values of the pattern's {name} segments, in order.
  std::vector<std::pair<std::string, std::string>> params;
  // For the application's own use between its layers (e.g. the authenticated account).
  int64_t context = -1;

  std::string_view path() const;
  std::string_view query() const;
  // The decoded value of a query parameter, or nullopt if absent.
  std::optional<std::string> queryParam(std::string_view name) const;
  // The value of a {name} path segment ("" if the pattern has none).
  const std::string& param(std::string_view name) const;
  // The first header field of that name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  // The token of "Authorization: Bearer <token>", or "" if there is none.
  std::string_view bearerToken() const;
};

// What the transport should do besides sending the response (fault injection).
enum class Delivery : uint8_t {
  kNormal,
  kResetBeforeHandling,  // the connection closes before any response is written
  kResetAfterHandling,   // the handler ran; the response is lost with the connection
};

struct Response {
  int status = 200;
  std::string body;
  std::string contentType = "application/json";
  Headers headers;
  bool close = false;  // close the connection after this response
  Delivery delivery = Delivery::kNormal;

  static Response json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Response empty(int status) {
    Response r;
    r.status = status;
    r.contentType.clear();
    return r;
  }
};

// A request's head as the server knows it before reading any body byte.
struct RequestHead {
  std::string_view method;
  std::string_view target;  // origin-form (an absolute-form target is reduced to its path)
  std::string_view authorization;
  std::string_view cookie;  // the Cookie header field, "" if none
};

// What the application decides from the head alone: how large a body it takes, or an answer
// sent at once — without reading the body (e.g. a 401 to a client that is not allowed the
// large body it announces).
struct Admission {
  size_t bodyLimit = 0;
  std::optional<Response> reject;
};

// A handler answers through `respond`, now or later, exactly once.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request&, Respond)>;
using SyncHandler = std::function<Response(const Request&)>;

std::string_view reasonPhrase(int status);

// The token of an Authorization value "Bearer <token>" (scheme case-insensitive, spaces
// around the token dropped), or "" if it is not one.
std::string_view bearerTokenOf(std::string_view authorization);

// A request target as logs and journals show it: printable ASCII kept, every other byte
// (space, control, non-ASCII, possibly invalid UTF-8) percent-encoded.
std::string printableTarget(std::string_view target);

// "%41bc+d" → "Abc d". Invalid escapes are kept as they are.
std::string percentDecode(std::string_view s, bool plusIsSpace = true);

// Maps method + path pattern ("/smartlock/{smartlockId}/auth/{id}") to a handler. Literal
// segments win over {parameters}, so "/smartlock/auth" and "/smartlock/{smartlockId}" coexist.
class Router {
 public:
  void add(std::string_view method, std::string_view pattern, Handler h);
  void add(std::string_view method, std::string_view pattern, SyncHandler h);

  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method
    bool pathKnown = false;            // some route has this path (so: 405, not 404)
    std::string allow;                 // the methods that path takes, for an Allow header
    const std::string* pattern = nullptr;
  };
  // Finds the route for the request's method and path and fills req.params.
  Match match(Request& req) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{x}" marks a parameter
    Handler handler;
  };
  static bool matches(const Route& r, const std::vector<std::string_view>& parts, int& literals);
  std::vector<Route> routes_;
};

}  // namespace nukihil::http
