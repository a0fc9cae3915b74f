#include "runtime/url_client.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <future>
#include <stdexcept>
#include <thread>

#include "runtime/http_client.h"

namespace nukihil::http {

struct UrlClient::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<HttpClient> client;
  std::thread thread;
  std::string base;  // without a trailing slash
  std::string token;
};

UrlClient::UrlClient(const std::string& base, std::string bearerToken, ClientOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!Url::parse(base)) throw std::invalid_argument("not an http(s) URL: " + base);
  impl_->base = base;
  while (!impl_->base.empty() && impl_->base.back() == '/')
    impl_->base.pop_back();
  impl_->token = std::move(bearerToken);
  impl_->client = std::make_unique<HttpClient>(impl_->io, std::move(options));
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

UrlClient::~UrlClient() {
  // The client is destroyed on its own thread, then the loop ends.
  std::promise<void> gone;
  boost::asio::post(impl_->io, [this, &gone] {
    impl_->client.reset();
    gone.set_value();
  });
  gone.get_future().wait();
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

void UrlClient::setToken(std::string token) {
  impl_->token = std::move(token);
}

BlockingResponse UrlClient::request(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  ClientRequest r;
  r.method = method;
  r.url = impl_->base + target;
  if (!impl_->token.empty()) r.headers.push_back({"Authorization", "Bearer " + impl_->token});
  r.headers.push_back({"Accept", "application/json"});
  for (const auto& h : headers)
    r.headers.push_back(h);
  r.body = body;
  r.timeout = std::chrono::seconds(60);
  std::promise<ClientResponse> answer;
  auto future = answer.get_future();
  boost::asio::post(impl_->io, [this, &r, &answer] {
    impl_->client->send(std::move(r),
                        [&answer](ClientResponse resp) { answer.set_value(std::move(resp)); });
  });
  ClientResponse resp = future.get();
  BlockingResponse out;
  out.status = resp.status;
  out.body = std::move(resp.body);
  out.error = resp.error;
  for (const auto& [k, v] : resp.headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    out.headers[name] = v;
  }
  return out;
}

}  // namespace nukihil::http
