// Inside runtime only (it includes Beast, which runtime's other headers keep private): the
// client's messages as Beast writes and reads them, shared by the two Transports so that the
// bytes on the memory network are the bytes HttpClient puts on a socket.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "runtime/transport.h"

namespace nukihil::http::wire {

namespace bhttp = boost::beast::http;

// The request HttpClient sends for `request` to `url`: Host (with the port unless it is the
// scheme's), User-Agent, Content-Type when there is a body (or the method is POST or PUT), the
// request's own headers, Content-Length, keep-alive.
bhttp::request<bhttp::string_body> clientRequest(const ClientRequest& request, const Url& url,
                                                 const std::string& userAgent);

// A response as a Transport hands it on (header fields in order, the body moved out).
ClientResponse clientResponse(bhttp::response<bhttp::string_body>&& res);

// A complete message as it goes on the wire: start line, header fields, body.
std::string serialise(bhttp::request<bhttp::string_body>& message);
std::string serialise(bhttp::response<bhttp::string_body>& message);

// Parses `bytes` — all there will be: the peer has closed after them — up to the end of the
// header (`headerOnly`) or of the message; `bytes` is left at what was not taken. The error is
// the one a read from a socket would give: end_of_stream without a byte, partial_message for
// a message cut short, header_limit, body_limit or a syntax error.
boost::beast::error_code feed(bhttp::request_parser<bhttp::string_body>& parser,
                              boost::asio::const_buffer& bytes, bool headerOnly);
boost::beast::error_code feed(bhttp::response_parser<bhttp::string_body>& parser,
                              boost::asio::const_buffer& bytes);

}  // namespace nukihil::http::wire
