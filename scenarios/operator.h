// The person at the lock in a hardware-in-the-loop run: the harness cannot type on a keypad,
// turn a knob or unplug a bridge, so it asks. A TerminalOperator prompts on the terminal (what
// to do, to which lock, with a countdown) and reads the answer; a ScriptedOperator, for runs
// against nukisim standing in for Nuki Web, does the same through nukisim's control plane,
// which the harness itself never sees. Both print the same transcript.
#pragma once

#include <atomic>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "scenarios/model/scenario.h"

namespace nukihil::scenarios {

struct Prompt {
  const model::Step* step = nullptr;
  std::string lock;
  uint64_t smartlockId = 0;
  bool pro = true;
  std::optional<uint64_t> bridgeId;
  int timeoutSeconds = 300;  // then the step counts as skipped
};

// What a person is asked to do for a step, in words ("type 234567 on the keypad of Front
// door"); empty for a step no one is asked for.
std::string instruction(const Prompt& p);

struct OperatorAnswer {
  bool done = false;            // false: skipped (or no answer in time)
  std::optional<bool> granted;  // keypad: did the lock open
  std::string note;             // "no answer in 300 s", …
};

class Operator {
 public:
  virtual ~Operator() = default;
  virtual OperatorAnswer ask(const Prompt& prompt) = 0;
};

// Prompts on `out`, reads lines from the file descriptor `in` (standard input), counts down on
// `out` while it waits; Ctrl-C (`interrupted`) ends the wait as a skip.
class TerminalOperator final : public Operator {
 public:
  TerminalOperator(int in, std::ostream& out, const std::atomic<bool>* interrupted);
  OperatorAnswer ask(const Prompt& prompt) override;

 private:
  int in_;
  std::ostream& out_;
  const std::atomic<bool>* interrupted_;
  std::string pending_;  // read but not yet used
};

// An operator file:
//   {"controlPlane": {"url": "http://127.0.0.1:PORT", "adminToken": "…"},
//    "answers": {"steps[4]": "skip"}}
// Every prompt is carried out through the control plane (the keypad's grant is what nukisim
// answers) unless `answers` says "skip" for that step's label.
class ScriptedOperator final : public Operator {
 public:
  // nullptr and `error` (with the JSON path) if the file is unusable.
  static std::unique_ptr<ScriptedOperator> load(const std::string& path, std::ostream& out,
                                                std::string& error);
  ~ScriptedOperator() override;
  OperatorAnswer ask(const Prompt& prompt) override;

 private:
  explicit ScriptedOperator(std::ostream& out);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::ostream& out_;
};

}  // namespace nukihil::scenarios
