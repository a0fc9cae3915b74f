#include "runtime/http_wire.h"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/serializer.hpp>

namespace nukihil::http::wire {

namespace beast = boost::beast;

bhttp::request<bhttp::string_body> clientRequest(const ClientRequest& request, const Url& url,
                                                 const std::string& userAgent) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(request.method);
  req.target(url.target);
  req.version(11);
  const bool defaultPort = url.port == (url.tls ? 443 : 80);
  const std::string host =
      url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  req.set(bhttp::field::host, defaultPort ? host : host + ":" + std::to_string(url.port));
  req.set(bhttp::field::user_agent, userAgent);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    if (!request.contentType.empty()) req.set(bhttp::field::content_type, request.contentType);
  }
  for (auto& [k, v] : request.headers)
    req.set(k, v);
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

ClientResponse clientResponse(bhttp::response<bhttp::string_body>&& res) {
  ClientResponse out;
  out.status = int(res.result_int());
  for (auto& f : res)
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(res.body());
  return out;
}

namespace {

template <bool isRequest>
std::string serialiseMessage(bhttp::message<isRequest, bhttp::string_body>& message) {
  bhttp::serializer<isRequest, bhttp::string_body> sr{message};
  std::string out;
  out.reserve(message.body().size() + 512);
  beast::error_code ec;
  do {
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      sr.consume(n);
    });
  } while (!ec && !sr.is_done());
  return out;
}

template <bool isRequest>
beast::error_code feedParser(bhttp::basic_parser<isRequest>& parser,
                             boost::asio::const_buffer& bytes, bool headerOnly) {
  beast::error_code ec;
  while (headerOnly ? !parser.is_header_done() : !parser.is_done()) {
    const size_t n = bytes.size() ? parser.put(bytes, ec) : 0;
    bytes += n;
    if (ec == bhttp::error::need_more) ec = {};
    if (ec) return ec;
    if (n == 0) {  // nothing more comes
      if (!parser.got_some()) return bhttp::error::end_of_stream;
      parser.put_eof(ec);
      if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
      return ec;
    }
  }
  return ec;
}

}  // namespace

beast::error_code feed(bhttp::request_parser<bhttp::string_body>& parser,
                       boost::asio::const_buffer& bytes, bool headerOnly) {
  return feedParser(parser, bytes, headerOnly);
}

beast::error_code feed(bhttp::response_parser<bhttp::string_body>& parser,
                       boost::asio::const_buffer& bytes) {
  return feedParser(parser, bytes, false);
}

std::string serialise(bhttp::request<bhttp::string_body>& message) {
  return serialiseMessage(message);
}

std::string serialise(bhttp::response<bhttp::string_body>& message) {
  return serialiseMessage(message);
}

}  // namespace nukihil::http::wire
