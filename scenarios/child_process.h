// Starting the project's own binaries as child processes, as a user would (remote mode,
// benchmarks, tests): stdout on a pipe whose first line is the tool's start-up JSON; stderr
// passed through or captured.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace nukihil::scenarios {

class ChildProcess {
 public:
  enum class Stderr { kInherit, kCapture };
  struct Exit {
    bool exited = false;  // a normal exit (not by a signal)
    int code = -1;        // the exit code, or the signal number if !exited
  };

  ChildProcess() = default;
  ~ChildProcess();  // if still running: SIGTERM, then SIGKILL after 5 s
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] with the given arguments (environment inherited); throws std::runtime_error
  // if it cannot.
  void spawn(const std::vector<std::string>& argv, Stderr stderrMode = Stderr::kInherit);
  // Starts it and returns the first line it prints on stdout; throws std::runtime_error if none
  // comes within 30 s.
  std::string start(const std::vector<std::string>& argv);

  // The first line on stdout (without the newline), if it comes within `timeout` (real time).
  std::optional<std::string> firstLine(std::chrono::milliseconds timeout);
  // Waits (real time, bounded) for the process to end, collecting its output; nullopt if it
  // still runs after `timeout`.
  std::optional<Exit> wait(std::chrono::milliseconds timeout);
  // Sends `signal` and waits for the process; returns its exit status as waitpid reports it.
  int stop(int signal);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_; }  // what was read from stdout so far
  const std::string& err() const { return err_; }  // captured stderr so far

 private:
  // Reads what is available on the pipes; false when both are closed or nothing came.
  bool pump(std::chrono::milliseconds timeout);
  void closePipes();

  pid_t pid_ = -1;
  int outFd_ = -1, errFd_ = -1;
  std::string out_, err_;
};

}  // namespace nukihil::scenarios
