#include "scenarios/operator.h"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "runtime/blocking_client.h"
#include "runtime/json_input.h"
#include "runtime/transport.h"
#include "scenarios/step_calls.h"

namespace nukihil::scenarios {

using model::StepKind;
using nlohmann::json;

std::string instruction(const Prompt& p) {
  const model::Step& st = *p.step;
  const std::string on = p.lock + " (smartlock " + std::to_string(p.smartlockId) + ")";
  const std::string bridge = p.bridgeId ? "bridge " + std::to_string(*p.bridgeId) : "the bridge";
  switch (st.kind) {
    case StepKind::kOffline:
      return p.pro ? "cut the Wi-Fi of " + on +
                         " (switch its access point off) and wait until "
                         "the Nuki app shows it offline"
                   : "unplug " + bridge + " of " + on + " (every lock on it goes offline)";
    case StepKind::kOnline:
      return p.pro ? "give " + on + " its Wi-Fi back"
                   : "plug " + bridge + " of " + on + " in again";
    case StepKind::kJam:
      return "block the bolt of " + on + " so that the motor cannot turn";
    case StepKind::kFree:
      return "free the bolt of " + on;
    case StepKind::kKeypad:
      return "type " + std::to_string(st.number) + " on the keypad of " + on +
             ", then say whether the lock opened";
    case StepKind::kKnob:
      return std::string("turn the knob of ") + on + " to " + (st.lockIt ? "lock" : "unlock") +
             " it";
    case StepKind::kAddCodeOnLock:
      return "in the Nuki app, over Bluetooth, add the keypad code " +
             std::to_string(st.code.code) + " named \"" + st.code.name + "\" to " + on +
             (st.code.nuki.size() > 2 ? " with " + st.code.nuki.dump() : "");
    case StepKind::kRemoveCodeOnLock:
      return "in the Nuki app, over Bluetooth, remove the keypad code " +
             std::to_string(st.number) + " from " + on;
    default:
      return "";
  }
}

namespace {

void header(std::ostream& out, const Prompt& p, const char* who) {
  out << "\n  OPERATOR (" << who << ") " << p.step->label() << ": " << instruction(p) << "\n";
}

}  // namespace

TerminalOperator::TerminalOperator(int in, std::ostream& out, const std::atomic<bool>* interrupted)
    : in_(in), out_(out), interrupted_(interrupted) {}

OperatorAnswer TerminalOperator::ask(const Prompt& p) {
  const bool keypad = p.step->kind == StepKind::kKeypad;
  // What was typed before the question is no answer to it (a key pressed twice, say).
  pending_.clear();
  for (pollfd pfd{in_, POLLIN, 0}; ::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);) {
    char buf[256];
    if (::read(in_, buf, sizeof buf) <= 0) break;
  }
  header(out_, p, "you");
  out_ << "  answer: " << (keypad ? "g = it opened, r = it did not open" : "d = done")
       << ", s = skip the scenario   (" << p.timeoutSeconds << " s)\n  > " << std::flush;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(p.timeoutSeconds);
  auto lastShown = std::chrono::steady_clock::now();
  for (;;) {
    for (size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
      while (!line.empty() && line.front() == ' ')
        line.erase(0, 1);
      OperatorAnswer a;
      const char c = line.empty() ? '\0' : char(std::tolower(static_cast<unsigned char>(line[0])));
      if (c == 's') {
        a.note = "skipped by the operator";
        return a;
      }
      if (keypad && (c == 'g' || c == 'r')) {
        a.done = true;
        a.granted = c == 'g';
        return a;
      }
      if (!keypad && c == 'd') {
        a.done = true;
        return a;
      }
      out_ << "  (" << (keypad ? "g, r or s" : "d or s") << ", please)\n  > " << std::flush;
    }
    const auto now = std::chrono::steady_clock::now();
    if ((interrupted_ && *interrupted_) || now >= deadline) {
      OperatorAnswer a;
      a.note = interrupted_ && *interrupted_
                   ? "interrupted"
                   : "no answer in " + std::to_string(p.timeoutSeconds) + " s";
      out_ << "\n  (" << a.note << ": skipped)\n";
      return a;
    }
    if (now - lastShown >= std::chrono::seconds(30)) {
      lastShown = now;
      out_ << "\n  … " << std::chrono::duration_cast<std::chrono::seconds>(deadline - now).count()
           << " s left\n  > " << std::flush;
    }
    pollfd pfd{in_, POLLIN, 0};
    if (::poll(&pfd, 1, 200) > 0) {
      char buf[256];
      const ssize_t n = ::read(in_, buf, sizeof buf);
      if (n <= 0) {  // end of input: nobody will answer
        OperatorAnswer a;
        a.note = "no operator (end of input)";
        out_ << "\n  (" << a.note << ": skipped)\n";
        return a;
      }
      pending_.append(buf, size_t(n));
    }
  }
}

struct ScriptedOperator::Impl {
  std::unique_ptr<http::BlockingClient> sim;
  std::map<std::string, std::string> answers;  // step label → "skip" | "perform"
};

ScriptedOperator::ScriptedOperator(std::ostream& out) : out_(out) {}
ScriptedOperator::~ScriptedOperator() = default;

std::unique_ptr<ScriptedOperator> ScriptedOperator::load(const std::string& path, std::ostream& out,
                                                         std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read the operator file";
    return nullptr;
  }
  std::stringstream content;
  content << in.rdbuf();
  std::string why;
  auto j = parseJsonText(content.str(), why);
  if (!j) {
    error = path + ": not JSON: " + why;
    return nullptr;
  }
  if (auto u = unknownField(*j, "", {"controlPlane", "answers", "description"}); !u.empty()) {
    error = path + ": " + u;
    return nullptr;
  }
  const json& cp = member(*j, "controlPlane");
  if (auto u = unknownField(cp, "controlPlane", {"url", "adminToken"}); !u.empty()) {
    error = path + ": " + u;
    return nullptr;
  }
  auto url = http::Url::parse(text(cp, "url"));
  if (!url || url->tls) {
    error = path + ": controlPlane.url: must be nukisim's http://HOST:PORT";
    return nullptr;
  }
  if (text(cp, "adminToken").empty()) {
    error = path + ": controlPlane.adminToken: required (nukisim prints it at start)";
    return nullptr;
  }
  std::unique_ptr<ScriptedOperator> op(new ScriptedOperator(out));
  op->impl_ = std::make_unique<Impl>();
  op->impl_->sim =
      std::make_unique<http::BlockingClient>(url->host, url->port, text(cp, "adminToken"));
  // A scripted operator that cannot reach its control plane would skip every step: say so now.
  const auto probe = op->impl_->sim->request("GET", "/sim/v1/clock");
  if (probe.status != 200) {
    error = path + ": controlPlane: nukisim at " + text(cp, "url") + " answered " +
            (probe.status ? std::to_string(probe.status) +
                                (probe.status == 401 ? " (is adminToken right?)" : "")
                          : "nothing (" + probe.error + ")") +
            " to GET /sim/v1/clock";
    return nullptr;
  }
  const json& answers = member(*j, "answers");
  if (!answers.is_null() && !answers.is_object()) {
    error = path + ": answers: must be an object {\"steps[N]\": \"skip\"|\"perform\"}";
    return nullptr;
  }
  if (answers.is_object())
    for (const auto& [k, v] : answers.items()) {
      bool label = k.size() > 7 && k.rfind("steps[", 0) == 0 && k.back() == ']';
      for (size_t i = 6; label && i + 1 < k.size(); ++i)
        label = std::isdigit(static_cast<unsigned char>(k[i])) != 0;
      if (!label) {
        error = path + ": answers." + k + ": a key is a step, \"steps[N]\"";
        return nullptr;
      }
      if (v != "skip" && v != "perform") {
        error = path + ": answers." + k + ": must be \"skip\" or \"perform\", not " + v.dump();
        return nullptr;
      }
      op->impl_->answers[k] = v;
    }
  return op;
}

OperatorAnswer ScriptedOperator::ask(const Prompt& p) {
  header(out_, p, "scripted");
  OperatorAnswer a;
  auto it = impl_->answers.find("steps[" + std::to_string(p.step->index) + "]");
  if (it != impl_->answers.end() && it->second == "skip") {
    a.note = "skipped by the operator file";
    out_ << "  > s   (" << a.note << ")\n";
    return a;
  }
  const json r = controlPlaneEvent(*impl_->sim, *p.step,
                                   "/sim/v1/smartlocks/" + std::to_string(p.smartlockId));
  if (p.step->kind == StepKind::kKeypad && r.contains("granted") && r["granted"].is_boolean()) {
    a.done = true;
    a.granted = r["granted"].get<bool>();
    out_ << "  > " << (*a.granted ? "g   (the lock opened)" : "r   (the lock did not open)")
         << "\n";
    return a;
  }
  if (r.value("status", 0) / 100 == 2) {
    a.done = true;
    out_ << "  > d\n";
    return a;
  }
  a.note = "the control plane answered " + r.dump();
  out_ << "  > s   (" << a.note << ")\n";
  return a;
}

}  // namespace nukihil::scenarios
